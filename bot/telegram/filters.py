"""Filters: the Telegram side of the one permission check, commands, the shortcut table, and
routers passed at one check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram import Bot, Router
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.permissions import Action, allowed
from bot.services.staff import Role, role_of
from bot.settings import Settings


class StaffOnly(Filter):
    """Passes staff of the given roles (any role when none given) and hands them as `staff`."""

    def __init__(self, *roles: Role) -> None:
        self.roles = roles or tuple(Role)

    async def __call__(
        self,
        event: TelegramObject,
        event_from_user: User | None,
        session: AsyncSession,
        settings: Settings,
    ) -> bool | dict[str, Any]:
        if event_from_user is None:
            return False
        member = await role_of(session, settings.owner_ids, event_from_user.id)
        return {"staff": member} if member and member.role in self.roles else False


class Permitted(Filter):
    """Passes whoever may do `action` (`bot.services.permissions`), handing `staff` and `grant`.

    The refusal is the router's next handler for the same command; services check again.
    """

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(
        self,
        event: TelegramObject,
        event_from_user: User | None,
        session: AsyncSession,
        settings: Settings,
    ) -> bool | dict[str, Any]:
        if event_from_user is None:
            return False
        member = await role_of(session, settings.owner_ids, event_from_user.id)
        grant = allowed(member, self.action)
        return {"staff": member, "grant": grant} if grant is not None else False


async def _command_name(message: Message, bot: Bot) -> str | None:
    """`/name`, `/name args` or `/name@this_bot`: the name, lower case; None for anything else."""
    text = message.text
    if not text or not text.startswith("/"):
        return None
    words = text[1:].split(maxsplit=1)
    if not words:
        return None
    name, _, mention = words[0].partition("@")
    if mention and mention.lower() != ((await bot.me()).username or "").lower():
        return None  # a command for another bot in the same group
    return name.lower()


class NotCommand(Filter):
    """Form steps take text, never a command: commands win over an open form.

    Async on purpose, as every filter here: aiogram runs synchronous filters in a worker thread.
    """

    async def __call__(self, message: Message) -> bool:
        return not (message.text or "").startswith("/")


class Shortcuts:
    """The frequent commands and menu buttons, found with one lookup instead of every router
    (`bot.telegram.middlewares.ShortcutsMiddleware` hands them over before any routing).

    `by_text` maps an exact text (a button label in any language) or a lower-case word to a
    handler, `by_command` a command name.
    """

    def __init__(
        self, by_text: Mapping[str, CallableObject], by_command: Mapping[str, CallableObject]
    ) -> None:
        self._by_text = dict(by_text)
        self._by_command = dict(by_command)

    async def find(self, message: Message, bot: Bot) -> CallableObject | None:
        text = message.text
        if not text:
            return None
        route = self._by_text.get(text)
        if route is None and text[0] == "/":
            name = await _command_name(message, bot)
            route = self._by_command.get(name) if name else None
        elif route is None and len(text) < 20:
            route = self._by_text.get(text.strip().lower())
        return route


class CommandOrOwnState(Filter):
    """A router's own message filter: lets in a command, or a message in one of the states
    the router's handlers wait in; nothing else could match any of them (`skip_early`)."""

    def __init__(self, prefixes: str, states: frozenset[str | None]) -> None:
        self._prefixes = prefixes
        self._states = states

    async def __call__(self, message: Message, raw_state: str | None = None) -> bool:
        if raw_state in self._states:
            return True
        text = (message.text or message.caption or "").lstrip()  # as Command reads it
        return bool(text) and text[0] in self._prefixes


def skip_early(router: Router) -> None:
    """Let a message that no handler of `router` (or of its sub-routers) could take pass it
    at one check; the same for each sub-router.

    aiogram goes through every router in turn and tries each handler's filters; a customer's
    answer to the questionnaire went through some eighty of them (the staff's commands and
    forms) before reaching the signup form. When every message handler under a router asks for
    a command or for states of its own, the router gets `CommandOrOwnState`, so the same
    messages reach the same handlers. A router with a handler of any other kind is left as it
    is (its sub-routers may still get theirs).
    """
    if (admits := _admits(router)) is not None:
        router.message.filter(CommandOrOwnState(*admits))
    for sub_router in router.sub_routers:
        skip_early(sub_router)


def _admits(router: Router) -> tuple[str, frozenset[str | None]] | None:
    """The command prefixes and raw states that the router's message handlers wait for; None
    when one of them may take other messages too."""
    prefixes = ""
    states: set[str | None] = set()
    for handler in router.message.handlers:
        checks = [each.callback for each in handler.filters or ()]
        commands = [check for check in checks if isinstance(check, Command)]
        waits = [check for check in checks if isinstance(check, StateFilter)]
        if commands:
            prefixes += "".join(command.prefix for command in commands)
        elif waits and (names := _state_names(waits[0])) is not None:
            states |= names
        else:
            return None
    for sub_router in router.sub_routers:
        if (inner := _admits(sub_router)) is None:
            return None
        prefixes += inner[0]
        states |= inner[1]
    return "".join(sorted(set(prefixes))), frozenset(states)


def _state_names(wait: StateFilter) -> set[str | None] | None:
    """The raw states a StateFilter lets through; None when it takes any state."""
    names: set[str | None] = set()
    for state in wait.states:
        if isinstance(state, State):
            names.add(state.state)
        elif isinstance(state, type) and issubclass(state, StatesGroup):
            names.update(state.__all_states_names__)
        elif state == "*" or not isinstance(state, str | None):
            return None
        else:
            names.add(state)
    return names
