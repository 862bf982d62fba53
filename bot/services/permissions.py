"""Who may do what: every staff action of the product, and the one check for it (issue 13).

A handler, the POS API or the shell never decides rights itself: it asks `allowed` (to choose
what to offer) or `require` (before acting). The answer is a `Grant`, which says how far the
right reaches, or `NotAllowedError`, which names the action only: the refusal is the same
whether the customer, purchase or member of staff asked about exists or not.

Customers, strangers and deactivated staff have no `StaffMember` (`role_of` gives None) and so
no staff action at all.

Every staff-facing service takes who acts as an `Actor`: the `StaffMember` a handler was given,
None for anyone else, or `SHELL`, the technician at the `clientbase` shell, who may do
everything (whoever runs the shell already holds the database).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.services.staff import Role, StaffMember


class Action(StrEnum):
    """Every staff action in the product."""

    RECORD_SALE = "record_sale"
    REDEEM = "redeem"
    RETURN = "return"
    RECEIPT_QR = "receipt_qr"
    FIND_CUSTOMER = "find_customer"
    VIEW_CUSTOMER = "view_customer"  # PII: see Grant (cashier: first name + masked phone)
    OWN_FIGURES = "own_figures"  # /my: the customers one's QR brought, one's sales
    MESSAGE_CUSTOMERS = "message_customers"  # one customer at a time; many: BROADCAST
    VIEW_STATS = "view_stats"
    VIEW_SOURCES = "view_sources"
    MAKE_QR = "make_qr"
    BROADCAST = "broadcast"
    PROMOS = "promos"
    EXPORT = "export"
    IMPORT = "import"
    INVITE_STAFF = "invite_staff"
    MANAGE_STAFF = "manage_staff"  # list, change role, deactivate, reactivate
    PROGRAM_SETTINGS = "program_settings"
    SCHEDULE = "schedule"
    AUDIT = "audit"
    ADJUST_POINTS = "adjust_points"


class Grant(StrEnum):
    """How far a right reaches."""

    ALL = "all"
    OWN = "own"  # only the customers attributed to this member (their employee sources)
    LIMITED = "limited"  # a customer's first name and masked phone, nothing more


class NotAllowedError(PermissionError):
    """This person may not do this. Says nothing about the thing they asked about."""

    def __init__(self, action: Action) -> None:
        super().__init__(f"not allowed: {action}")
        self.action = action


@dataclass(frozen=True)
class ShellActor:
    """The technician at the shell: every right. `user` is what the audit names."""

    user: str = ""

    @property
    def actor(self) -> str:
        return f"shell:{self.user}"[:64]


SHELL = ShellActor()

Actor = StaffMember | ShellActor | None


_TILL = {
    Action.RECORD_SALE: Grant.ALL,
    Action.REDEEM: Grant.ALL,
    Action.RETURN: Grant.ALL,
    Action.RECEIPT_QR: Grant.ALL,
    Action.FIND_CUSTOMER: Grant.ALL,
    Action.VIEW_CUSTOMER: Grant.LIMITED,
    Action.OWN_FIGURES: Grant.ALL,
}

MATRIX: dict[Role, dict[Action, Grant]] = {
    Role.OWNER: {action: Grant.ALL for action in Action},
    Role.MANAGER: _TILL
    | {
        Action.VIEW_CUSTOMER: Grant.OWN,  # full for their own customers, limited for the rest
        Action.MESSAGE_CUSTOMERS: Grant.OWN,
        Action.BROADCAST: Grant.OWN,  # /broadcast, /campaigns: to and of their customers only
        Action.VIEW_STATS: Grant.OWN,
        Action.INVITE_STAFF: Grant.LIMITED,  # cashiers only (see `invitable_roles`)
    },
    Role.CASHIER: dict(_TILL),
}


def allowed(member: Actor, action: Action) -> Grant | None:
    """How far `member` may do `action`; None when not at all."""
    if member is None:
        return None
    if isinstance(member, ShellActor):
        return Grant.ALL
    return MATRIX[member.role].get(action)


def require(member: Actor, action: Action) -> Grant:
    """The grant, or `NotAllowedError`: call it in the service before anything is read."""
    grant = allowed(member, action)
    if grant is None:
        raise NotAllowedError(action)
    return grant


def actions_of(member: Actor) -> list[Action]:
    """Everything `member` may do, in the enum's order (menus, /help)."""
    return [action for action in Action if allowed(member, action) is not None]


def invitable_roles(member: StaffMember | None) -> tuple[Role, ...]:
    """The roles `member` may invite someone into: an owner any, a manager cashiers."""
    grant = allowed(member, Action.INVITE_STAFF)
    if grant is Grant.ALL:
        return (Role.OWNER, Role.MANAGER, Role.CASHIER)
    if grant is Grant.LIMITED:
        return (Role.CASHIER,)
    return ()
