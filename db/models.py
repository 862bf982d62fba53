"""ORM models: the database's shape. Services turn rows into dataclasses before they leave."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class Source(Base):
    """Where a customer came from: a QR code at a store, for a campaign, maybe by an employee."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store: Mapped[str] = mapped_column(String(100))
    campaign: Mapped[str] = mapped_column(String(100), default="")
    employee: Mapped[str] = mapped_column(String(100), default="")
    # The member of staff the employee QR code is theirs (/my, a manager's customers).
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True, default=None
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Customer(Base):
    """A person in the shop's base. `pending` until the questionnaire is complete."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'forgotten')", name="status"),
        CheckConstraint("gender IS NULL OR gender IN ('female', 'male')", name="gender"),
        # Statistics: new customers per week, and the base by source.
        Index("ix_customers_status_signed_up", "status", "signed_up_at"),
        Index("ix_customers_status_source", "status", "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None for a customer imported from the shop's old spreadsheet who has not come to the bot.
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    language: Mapped[str] = mapped_column(String(8), default="ru")
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    birthday: Mapped[date | None]
    gender: Mapped[str | None] = mapped_column(String(8))
    city: Mapped[str | None] = mapped_column(String(100))
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    ads_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_up_at: Mapped[datetime | None]
    # The number a cashier types (7 random digits and a Luhn check digit), given at signup.
    card_code: Mapped[str | None] = mapped_column(String(8), unique=True)
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    # Set when the messenger refused delivery for good (blocked the bot, deleted the account).
    unreachable_at: Mapped[datetime | None]
    # Bumped first in every ledger transaction: the row lock that serialises two cashiers.
    ledger_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Kept under that lock by the ledger, so the lock statement itself yields what an accrual
    # needs: kopecks spent net of returns (the tier) and purchases made (the first one pays a
    # referral). Points are never cached here: they are what the open lots hold.
    spend: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    purchase_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Brought in by `clientbase import` / `/import`; consent_pending: no dated consent in the
    # file, so nothing is ever sent to them until they consent in the bot themselves.
    imported_at: Mapped[datetime | None]
    consent_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Identity(Base):
    """A messenger account of a customer: (channel, account) -> customer, one customer per account.

    The customer is the key everywhere else (ledger, purchases, deliveries); a person on two
    messengers is one customer with two identities. `customers.telegram_id` stays beside it as
    a denormalised copy of the Telegram identity: the Telegram update path reads it in one
    indexed lookup, with no join (bench/README.md).
    """

    __tablename__ = "identities"
    __table_args__ = (
        CheckConstraint("channel IN ('telegram', 'whatsapp')", name="channel"),
        UniqueConstraint("channel", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    # Telegram: the user id in decimal; WhatsApp: the wa_id (the phone's digits, no plus).
    account_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The customer's last message on this channel: WhatsApp allows free-form text for 24 hours
    # after it, an approved template outside that window.
    last_message_at: Mapped[datetime | None]


class IdentityLink(Base):
    """A request to add an account to an existing customer, confirmed from their other channel.

    Taken once: the confirmation is a conditional UPDATE of `used_at` on an unexpired code.
    """

    __tablename__ = "identity_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Consent(Base):
    """One decision of a customer about one kind of consent: append-only, for 152-FZ and 38-FZ."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint("kind IN ('personal_data', 'advertising')", name="kind"),
        Index("ix_consents_customer_kind", "customer_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    text_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerEntry(Base):
    """One movement of points. Append-only: the balance is the sum of the entries.

    A credit (accrual, bonus, adjustment up) is also a lot: `remaining` says how much of it is
    still unspent and `expires_at` when it lapses. Debits have no `remaining`.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('accrual', 'bonus', 'redemption', 'expiry', 'reversal', 'refund',"
            " 'adjustment')",
            name="kind",
        ),
        CheckConstraint("remaining IS NULL OR remaining >= 0", name="remaining"),
        # Also the customer's entries (history, erasure, the foreign key's cascade): a separate
        # index on customer_id alone would be one more page written by every sale.
        Index("ix_ledger_entries_lots", "customer_id", "remaining"),
        # Statistics: the program's liability (live lots) without reading every entry.
        Index("ix_ledger_entries_live", "remaining", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    remaining: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None]
    purchase_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchases.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(64), default="", server_default="")


class LedgerAllocation(Base):
    """Which lot a debit took its points from (negative points: given back by a refund)."""

    __tablename__ = "ledger_allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), index=True
    )
    lot_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), index=True
    )
    points: Mapped[int] = mapped_column(Integer)


class Purchase(Base):
    """A check: its amount in kopecks, the points it paid with and the points it earned."""

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunded"),
        # The same receipt twice is one purchase; NULL receipt ids never clash. Two columns, not
        # "store:id" glued: store "A" receipt "B:1" and store "A:B" receipt "1" are two receipts.
        UniqueConstraint("store", "receipt_id"),
        # Statistics: per-customer purchase figures and revenue per week read only the index.
        # Also the customer's purchases (and the foreign key's cascade): no index of its own.
        Index(
            "ix_purchases_customer_figures",
            "customer_id",
            "created_at",
            "amount",
            "refunded_amount",
        ),
        Index("ix_purchases_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    store: Mapped[str] = mapped_column(String(100), default="")
    amount: Mapped[int] = mapped_column(BigInteger)
    redeemed: Mapped[int] = mapped_column(Integer, default=0)
    accrued: Mapped[int] = mapped_column(Integer, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    receipt_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurchaseRefund(Base):
    """One return against a purchase; a till retrying the same refund id changes nothing."""

    __tablename__ = "purchase_refunds"
    __table_args__ = (UniqueConstraint("purchase_id", "refund_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("purchases.id", ondelete="CASCADE"), index=True
    )
    # The till's refund id, or a random one when it gave none.
    refund_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    reversed_points: Mapped[int] = mapped_column(Integer, default=0)
    returned_points: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceiptToken(Base):
    """A purchase QR shown or printed at the till: the first customer to scan it gets the points."""

    __tablename__ = "receipt_tokens"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        UniqueConstraint("store", "receipt_id"),  # one QR per receipt, as on purchases
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store: Mapped[str] = mapped_column(String(100), default="")
    amount: Mapped[int] = mapped_column(BigInteger)
    receipt_id: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(64), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None]
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id", ondelete="SET NULL"))
    voided_at: Mapped[datetime | None]


class Staff(Base):
    """A cashier (or another role of the shop's people), added by an owner's one-time invite."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    role: Mapped[str] = mapped_column(String(16))
    store: Mapped[str] = mapped_column(String(100), default="")
    name: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffInvite(Base):
    """A one-time link that makes whoever opens it first a member of staff."""

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    store: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None]


class PosToken(Base):
    """A till's key to the point-of-sale API, one per store; only its hash is kept."""

    __tablename__ = "pos_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class FunnelEvent(Base):
    """An anonymous step of the signup funnel: no customer, only the source and the time."""

    __tablename__ = "funnel_events"
    __table_args__ = (Index("ix_funnel_events_source_kind", "source_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The messenger the step happened on: the funnel per source and channel.
    channel: Mapped[str] = mapped_column(String(16), default="telegram", server_default="telegram")


class OwnerAlert(Base):
    """Something the owner must look at, e.g. a phone claimed by a second Telegram account."""

    __tablename__ = "owner_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class Delivery(Base):
    """One message the bot sends on its own: the outbox the delivery engine drains.

    Written in the same transaction as the change that causes it (a sale, a refund, an alert, a
    broadcast), so a committed change always gets its message and a rolled-back one never does.
    The text is rendered when it is sent, from `kind` and `payload`, in the recipient's language.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="state"
        ),
        CheckConstraint("customer_id IS NOT NULL OR chat_id IS NOT NULL", name="recipient"),
        Index("ix_deliveries_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A customer (resolved to their messenger account at send time) or a bare chat (staff).
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Advertising needs the advertising consent, quiet hours and the frequency cap.
    advertising: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # (job, customer, period) or (campaign, customer): a second enqueue of the same is a no-op.
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker's claim: another worker may take the row over once this lease has lapsed.
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(String(200), default="")


class FsmRecord(Base):
    """A half-filled form (aiogram FSM state and data), kept here so a restart loses nothing."""

    __tablename__ = "fsm_records"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConsentText(Base):
    """The exact wording behind a consent version, so a record proves what the person agreed to."""

    __tablename__ = "consent_texts"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """One run of a scheduled job for one period (a local date or month): the lease and the tally.

    The unique (job, period) makes the run itself a one-time thing: a process claims it by
    inserting the row or, when the holder's lease has lapsed, by a conditional UPDATE.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint("state IN ('running', 'done', 'failed', 'skipped')", name="state"),
        UniqueConstraint("job", "period", name="uq_job_runs_job_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12))
    owner: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    lease_until: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(200), default="")


class JobSetting(Base):
    """The owner's switch for a job (no row: on); read at every run, so no restart is needed."""

    __tablename__ = "job_settings"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class ProgramSetting(Base):
    """One value of the loyalty program (a bonus, the tiers, a lifetime), as the owner set it.

    Seeded from the environment on first start (missing keys only); afterwards the database is
    the truth. `value` is the text form `bot.services.program` parses and validates.
    """

    __tablename__ = "program_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class JobText(Base):
    """The owner's wording of a job's message in one language (no row: the default text)."""

    __tablename__ = "job_texts"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    text: Mapped[str] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


# The scheduler finds today's birthdays by date of birth (one probe per year) and the lots
# that lapse on a day by their expiry, in a million-customer base, without a full scan.
Index("ix_customers_birthday", Customer.birthday)
# Only open lots (remaining > 0) are indexed: written-off history never slows the daily scan.
# A query must spell `remaining > 0` literally (no bound 0) for SQLite to use this index; and
# with a bound 0, SQLite compiles the statement again on every run to see whether the index
# fits the value (the parameter might make it usable). Queries on lots use OPEN_LOT.
OPEN_LOT = LedgerEntry.remaining > literal_column("0")
Index(
    "ix_ledger_entries_open_expiry",
    LedgerEntry.expires_at,
    postgresql_where=text("remaining > 0"),
    sqlite_where=text("remaining > 0"),
)


class AuditEntry(Base):
    """Who did what, when and from where: views of others' data, exports, imports, changes.

    `details` carries ids and counts, never a phone or a name: the audit log outlives consents.
    """

    __tablename__ = "audit_log"
    __table_args__ = (CheckConstraint("channel IN ('messenger', 'pos', 'shell')", name="channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Redemption(Base):
    """A request to spend a customer's points, waiting for the customer's own consent.

    A cashier's sale or a till asks; the customer taps the button in their chat (or reads out the
    one-time `code`); only then is the purchase recorded with the points. The status is taken
    with a conditional UPDATE, so a double tap or a forged callback spends nothing twice.
    """

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'declined', 'cancelled')", name="status"
        ),
        CheckConstraint("points > 0", name="points"),
        UniqueConstraint("store", "receipt_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    store: Mapped[str] = mapped_column(String(100), default="")
    receipt_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    notify_chat: Mapped[int | None] = mapped_column(BigInteger)  # the cashier told of the answer
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes typed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # The promo code the sale carries (as typed, normalized): used when the purchase is recorded.
    promo_code: Mapped[str | None] = mapped_column(String(16))


class Promotion(Base):
    """An offer the owner made: a discount (percent or fixed) or bonus points, until a date.

    A shared promotion has one code for everyone; a personal one has a code per customer
    (`issue_personal_codes`). Single use: once per customer (a personal code: once at all).
    `max_uses` caps the uses of a code; `system_key` names a promotion the bot made itself
    (the win-back job's, one per window).
    """

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("kind IN ('percent', 'fixed', 'points')", name="kind"),
        CheckConstraint("value > 0", name="value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    # percent: 1..99; fixed: kopecks; points: bonus points.
    value: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None]
    multi_use: Mapped[bool] = mapped_column(Boolean, default=False)
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    system_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PromoCode(Base):
    """A code: the shared one of a promotion, or a customer's personal one (one per promotion).

    `uses` is taken with a conditional UPDATE (`uses < limit`), so of two tills redeeming one
    single-use code at once exactly one wins; a refund of the purchase gives the use back.
    """

    __tablename__ = "promo_codes"
    __table_args__ = (
        UniqueConstraint("promotion_id", "customer_id"),
        CheckConstraint("uses >= 0", name="uses"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # A personal code's own lifetime (the win-back's); None: the promotion's expiry.
    expires_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None]
    # The purchase it paid last (every use is in promo_redemptions).
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PromoRedemption(Base):
    """One use of a code on one purchase; released (and the use given back) by its refund.

    `once_key` ("code:customer") is set for single-use codes while the use stands: the unique
    key makes a second use by the same customer impossible, and releasing clears it.
    """

    __tablename__ = "promo_redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_id: Mapped[int] = mapped_column(
        ForeignKey("promo_codes.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("purchases.id", ondelete="CASCADE"), unique=True
    )
    once_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)  # kopecks off the check
    bonus: Mapped[int] = mapped_column(Integer, default=0)  # points granted
    actor: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]


class Segment(Base):
    """A named segment: its filter as JSON (`bot.domain.segments.SegmentFilter`), never members.

    Members are computed from the data whenever the segment is counted or sent to.
    """

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """A broadcast: what it says, to which segment (a snapshot of the filter), and its state.

    The photo is either a Telegram file_id (sent from the messenger) or the file's bytes
    (`clientbase broadcast --photo FILE`: the shell and the bot share only the database); the
    channel uploads the bytes once per process and reuses Telegram's file_id after that.
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(
            "state IN ('draft', 'scheduled', 'running', 'paused', 'cancelled', 'done')",
            name="state",
        ),
        CheckConstraint("holdout_percent >= 0 AND holdout_percent <= 90", name="holdout"),
        Index("ix_campaigns_state_start_at", "state", "start_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(200))
    photo_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    button_url: Mapped[str | None] = mapped_column(String(500))
    segment_name: Mapped[str | None] = mapped_column(String(100))
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holdout_percent: Mapped[int] = mapped_column(Integer, default=10)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    start_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Set at start: customers in the target, and how many of them were held out (not sent to).
    targeted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    held_out: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The start expands the target in slices of customer ids, each its own short transaction
    # (SQLite has one writer: sales must not wait for a million rows): the highest customer id
    # at the start, and how far the expansion has got. A crash mid-way is resumed from there.
    expand_until: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expanded_through: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A personal-code promotion: each non-holdout recipient gets their own code at the start.
    promotion_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotions.id", ondelete="SET NULL")
    )


class CampaignMember(Base):
    """Who was in a campaign's target when it started; `holdout`: the control group, never sent."""

    __tablename__ = "campaign_members"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)


__all__ = [
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignMember",
    "Consent",
    "ConsentText",
    "Customer",
    "Delivery",
    "FsmRecord",
    "FunnelEvent",
    "Identity",
    "IdentityLink",
    "JobRun",
    "JobSetting",
    "JobText",
    "LedgerAllocation",
    "LedgerEntry",
    "OwnerAlert",
    "PosToken",
    "ProgramSetting",
    "PromoCode",
    "PromoRedemption",
    "Promotion",
    "Purchase",
    "PurchaseRefund",
    "ReceiptToken",
    "Redemption",
    "Segment",
    "Source",
    "Staff",
    "StaffInvite",
]
