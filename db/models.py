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
    String,
    Text,
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
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Customer(Base):
    """A person in the shop's base. `pending` until the questionnaire is complete."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active')", name="status"),
        CheckConstraint("gender IS NULL OR gender IN ('female', 'male')", name="gender"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
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
    """One movement of points. Append-only: the balance is the sum of the entries."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FunnelEvent(Base):
    """An anonymous step of the signup funnel: no customer, only the source and the time."""

    __tablename__ = "funnel_events"
    __table_args__ = (Index("ix_funnel_events_source_kind", "source_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OwnerAlert(Base):
    """Something the owner must look at, e.g. a phone claimed by a second Telegram account."""

    __tablename__ = "owner_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


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


__all__ = [
    "Base",
    "Consent",
    "ConsentText",
    "Customer",
    "FsmRecord",
    "FunnelEvent",
    "LedgerEntry",
    "OwnerAlert",
    "Source",
]
