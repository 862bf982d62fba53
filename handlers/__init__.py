"""aiogram routers: thin, they parse the update, call a service and render the reply.

Routers are built per Dispatcher (an aiogram router has one parent), so a test or a restart
can assemble a fresh bot in the same process.
"""

from aiogram import Router

from bot.telegram.questions import FormChatMiddleware
from handlers import cashier, exchange, fallback, menu, owner, receipt, signup, start, stats


def build_router() -> Router:
    """Order matters: /start, staff commands (usable mid-form), the form, the menu, the rest."""
    root = Router(name="root")
    form_routers = (start.build_router(), signup.build_router())
    for router in form_routers:
        router.message.middleware(FormChatMiddleware())
        router.callback_query.middleware(FormChatMiddleware())
    root.include_routers(
        form_routers[0],
        owner.build_router(),
        stats.build_router(),
        exchange.build_router(),
        cashier.build_router(),
        receipt.build_router(),
        form_routers[1],
        menu.build_router(),
        fallback.build_router(),
    )
    return root
