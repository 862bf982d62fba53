"""The readable /mydata summary, shared by Telegram and WhatsApp (HTML; WhatsApp converts it)."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from bot.services.privacy import MyData
from bot.texts import Texts

CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp"}


def account_label(channel: str, account: str) -> str:
    """How a person sees one of their own accounts: a WhatsApp number, a Telegram id."""
    return f"+{account}" if channel == "whatsapp" else f"id {account}"


def mydata_text(texts: Texts, data: MyData, zone: ZoneInfo) -> str:
    empty = texts.profile_empty
    kinds = {"personal_data": texts.mydata_personal_data, "advertising": texts.mydata_advertising}
    lines = [
        texts.mydata_consent.format(
            at=record.at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            kind=kinds.get(record.kind, record.kind),
            state=texts.mydata_granted if record.granted else texts.mydata_withdrawn,
            version=escape(record.version),
        )
        for record in data.consents
    ]
    genders = {"female": texts.female, "male": texts.male}
    joined = data.signed_up_at or data.created_at
    text = texts.mydata.format(
        name=escape(data.name) if data.name else empty,
        phone=escape(data.phone) if data.phone else empty,
        birthday=data.birthday.strftime("%d.%m.%Y") if data.birthday else empty,
        gender=genders.get(data.gender or "", empty),
        city=escape(data.city) if data.city else empty,
        interests=escape(", ".join(data.interests)) or empty,
        language=escape(data.language),
        source=escape(data.source) if data.source else texts.mydata_no_source,
        joined=joined.astimezone(zone).strftime("%d.%m.%Y"),
        balance=texts.points(data.points),
        purchases=data.purchases,
        spent=f"{data.spent / 100:.2f}",
        ads=texts.profile_ads_on if data.ads_opt_in else texts.profile_ads_off,
        consents="\n".join(lines) or texts.mydata_no_consents,
    )
    accounts = [
        texts.mydata_account.format(
            channel=CHANNEL_NAMES.get(record.channel, record.channel),
            account=escape(account_label(record.channel, record.account)),
            since=record.since.astimezone(zone).strftime("%d.%m.%Y"),
        )
        for record in data.accounts
    ]
    accounts += [
        texts.mydata_link.format(
            at=record.at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            channel=CHANNEL_NAMES.get(record.channel, record.channel),
            account=escape(account_label(record.channel, record.account)),
            state=texts.mydata_link_done if record.confirmed_at else texts.mydata_link_open,
        )
        for record in data.links
    ]
    if accounts:
        text += texts.mydata_accounts.format(accounts="\n".join(accounts))
    return text
