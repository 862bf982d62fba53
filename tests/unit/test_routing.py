"""Routers that only commands or their own forms can match are passed at one check
(`skip_early`), and only what none of their handlers could take passes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Chat, Message

from bot.telegram.filters import CommandOrOwnState, skip_early
from bot.telegram.questions import Signup
from bot.telegram.sale import SaleForm
from handlers import build_router


class SaleLike(StatesGroup):
    amount = State()
    receipt = State()


class Other(StatesGroup):
    step = State()


async def _nothing(*_: Any) -> None:
    return None


def _message(text: str | None = None, caption: str | None = None) -> Message:
    return Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=1, type="private"),
        text=text,
        caption=caption,
    )


def _filter_of(router: Router) -> CommandOrOwnState | None:
    found = [f.callback for f in router.message._handler.filters or ()]
    return next((f for f in found if isinstance(f, CommandOrOwnState)), None)


async def test_a_router_of_commands_and_its_own_states_lets_in_only_those() -> None:
    router = Router()
    router.message.register(_nothing, Command("sale"))
    router.message.register(_nothing, StateFilter(SaleLike))
    skip_early(router)
    admits = _filter_of(router)
    assert admits is not None
    assert await admits(_message("/sale 100"))
    assert await admits(_message("  /sale"))  # Command reads past leading spaces too
    assert await admits(_message(caption="/sale"))
    assert await admits(_message("1500"), raw_state=SaleLike.amount.state)
    assert not await admits(_message("1500"), raw_state=None)
    assert not await admits(_message("Анна"), raw_state=Other.step.state)


async def test_a_router_that_may_take_any_text_is_left_as_it_is() -> None:
    for any_text in (F.text, StateFilter("*")):
        router = Router()
        router.message.register(_nothing, Command("sale"))
        router.message.register(_nothing, any_text)
        skip_early(router)
        assert _filter_of(router) is None
    router = Router()
    router.message.register(_nothing, StateFilter(None, SaleLike.amount))
    skip_early(router)
    admits = _filter_of(router)  # None is a state too: that of someone in no form
    assert admits is not None and await admits(_message("hi"), raw_state=None)


async def test_a_group_is_passed_at_once_unless_one_of_its_routers_takes_the_message() -> None:
    group, first, second = Router(), Router(), Router()
    first.message.register(_nothing, Command("one"))
    second.message.register(_nothing, StateFilter(Other.step))
    group.include_routers(first, second)
    skip_early(group)
    admits = _filter_of(group)
    assert admits is not None
    assert await admits(_message("word"), raw_state=Other.step.state)
    assert not await admits(_message("word"), raw_state=SaleLike.amount.state)
    assert _filter_of(first) is not None and _filter_of(second) is not None


async def test_a_questionnaire_answer_passes_the_staff_area_and_reaches_the_signup_form() -> None:
    root = build_router()
    by_name = {router.name: router for router in root.sub_routers}
    staff_area = _filter_of(by_name["staff area"])
    signup = _filter_of(by_name["signup"])
    assert staff_area is not None and signup is not None
    answer, name = _message("Анна Петрова"), Signup.name.state
    assert not await staff_area(answer, raw_state=name)
    assert await signup(answer, raw_state=name)
    assert await staff_area(_message("/stats"), raw_state=name)  # commands win over a form
    assert await staff_area(_message("1500"), raw_state=SaleForm.amount.state)
    assert _filter_of(by_name["fallback"]) is None
