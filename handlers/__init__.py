"""aiogram routers: thin, they parse the update, call a service and render the reply.

Routers are built per Dispatcher (an aiogram router has one parent), so a test or a restart
can assemble a fresh bot in the same process.
"""

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from bot.telegram.filters import Shortcuts, skip_early
from bot.telegram.questions import FormChatMiddleware
from bot.texts import LANGUAGES
from handlers import (
    audit,
    broadcast,
    campaigns,
    cancel,
    cashier,
    exchange,
    fallback,
    link,
    menu,
    owner,
    profile,
    program,
    promos,
    receipt,
    rights,
    schedule,
    signup,
    staff,
    start,
    stats,
    till,
    unsubscribe,
)


def shortcuts() -> Shortcuts:
    """The members' commands and menu buttons, and /cancel: found by one dict lookup and
    handed to their handler before any form or router sees them (most updates are these)."""
    by_text: dict[str, CallableObject] = {}
    by_command: dict[str, CallableObject] = {}
    for command, label, handler in (*menu.SHORTCUTS, *cancel.SHORTCUTS):
        route = CallableObject(handler)
        by_command[command] = route
        for texts in LANGUAGES.values():
            by_text[getattr(texts, label)] = route
    return Shortcuts(by_text, by_command)


def build_router() -> Router:
    """Order matters: (the shortcuts, before any router), /cancel and the rights commands
    (/forget works mid-signup), /start, unsubscribe and staff commands (usable mid-form), the
    forms, the menu's buttons, the rest. Form steps refuse commands (`NotCommand`), so commands
    win.

    The staff's routers sit in one group, which a customer's message that is neither a command
    nor in one of their forms passes at one check (`skip_early`)."""
    root = Router(name="root")
    form_routers = (start.build_router(), signup.build_router())
    for router in form_routers:
        router.message.middleware(FormChatMiddleware())
        router.callback_query.middleware(FormChatMiddleware())
    staff_area = Router(name="staff area")
    staff_area.include_routers(
        owner.build_router(),
        staff.build_router(),
        promos.build_router(),
        schedule.build_router(),
        program.build_router(),
        audit.build_router(),
        profile.build_router(),
        stats.build_router(),
        campaigns.build_router(),
        broadcast.build_router(),
        exchange.build_router(),
        till.build_router(),
        cashier.build_router(),
        receipt.build_router(),
    )
    root.include_routers(
        cancel.build_router(),
        rights.build_router(),
        link.build_router(),
        form_routers[0],
        unsubscribe.build_router(),
        staff_area,
        form_routers[1],
        menu.build_router(),
        fallback.build_router(),
    )
    skip_early(root)
    return root
