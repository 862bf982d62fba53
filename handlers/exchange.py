"""`/export` and `/import` (owner): the base out as XLSX and CSV, an old base in from a file.

The import is a dry run first; the confirm button re-reads the same Telegram file (its
file id, never its content, waits in the form storage: no personal data there) and writes it
in one transaction.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    MediaUnion,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import Program
from bot.services import audit, exchange
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.deeplinks import bot_username
from bot.telegram.filters import Permitted
from bot.telegram.sending import pre_chunks
from bot.texts import Texts

MAX_FILE = 20 * 1024 * 1024  # what a bot may download from Telegram
REPORT_CHUNKS = 3  # a longer dry-run report is sent as a file


class ImportForm(StatesGroup):
    file = State()
    confirm = State()


class ImportCb(CallbackData, prefix="imp"):
    go: bool
    digest: str


async def cmd_export(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
    staff: StaffMember,
) -> None:
    result = await exchange.export(
        session,
        settings.link_key,
        program,
        texts,
        ("xlsx", "csv"),
        actor=audit.messenger_actor(staff.telegram_id),
        channel=audit.Channel.MESSENGER,
        bot_username=await bot_username(bot),
        by=staff,
    )
    caption = texts.export_caption.format(
        customers=result.customers, with_data=result.with_personal_data
    )
    documents: list[MediaUnion] = [
        InputMediaDocument(media=BufferedInputFile(f.data, f.name)) for f in result.files
    ]
    documents[-1] = InputMediaDocument(media=documents[-1].media, caption=caption)
    await bot.send_media_group(message.chat.id, documents)


async def cmd_import(message: Message, state: FSMContext, texts: Texts) -> None:
    await state.set_state(ImportForm.file)
    await message.answer(texts.import_ask_file)


async def _send_report(message: Message, text: str) -> None:
    chunks = pre_chunks(text)
    if len(chunks) <= REPORT_CHUNKS:
        for chunk in chunks:
            await message.answer(chunk)
        return
    await message.answer(pre_chunks(text.split("\n\n")[0])[0])
    await message.answer_document(BufferedInputFile(text.encode(), "import-report.txt"))


async def on_import_file(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    staff: StaffMember,
) -> None:
    document = message.document
    if document is None:
        await message.answer(texts.import_ask_file)
        return
    if (document.file_size or 0) > MAX_FILE:
        await message.answer(texts.import_too_large)
        return
    data = (await bot.download(document.file_id)).read()  # type: ignore[union-attr]
    try:
        plan = await exchange.plan_import(session, data, by=staff)
    except exchange.SheetUnreadableError as error:
        missing = error.reason == "no_phone_column"
        await message.answer(texts.import_no_phone_column if missing else texts.import_unreadable)
        return
    await _send_report(message, exchange.plan_text(plan, texts))
    if not plan.new_customers and not plan.points:
        await state.clear()
        await message.answer(texts.import_nothing)
        return
    await state.set_state(ImportForm.confirm)
    await state.set_data({"file_id": document.file_id, "digest": plan.digest})
    buttons = [
        InlineKeyboardButton(text=text, callback_data=ImportCb(go=go, digest=plan.digest).pack())
        for text, go in ((texts.import_confirm, True), (texts.import_cancel, False))
    ]
    await message.answer(
        texts.import_confirm, reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons])
    )


async def on_import_answer(
    query: CallbackQuery,
    callback_data: ImportCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    program: Program,
    staff: StaffMember,
) -> None:
    data = await state.get_data()
    if (
        await state.get_state() != ImportForm.confirm.state
        or data.get("digest") != callback_data.digest
    ):
        await query.answer(texts.already_done)
        return
    await state.clear()  # the button acts once
    await query.answer()
    if not callback_data.go:
        await bot.send_message(query.from_user.id, texts.import_cancelled)
        return
    content = (await bot.download(data["file_id"])).read()  # type: ignore[union-attr]
    result = await exchange.run_import(
        session,
        program,
        settings.link_key,
        content,
        actor=audit.messenger_actor(staff.telegram_id),
        channel=audit.Channel.MESSENGER,
        language=settings.default_language,
        by=staff,
    )
    plan = result.plan
    await bot.send_message(
        query.from_user.id,
        texts.import_done.format(
            new=plan.new_customers, merged=len(plan.merges), points=plan.points
        ),
    )
    if result.invites:
        invites = exchange.invites_csv(result, await bot_username(bot))
        await bot.send_document(
            query.from_user.id, BufferedInputFile(invites, f"invites-{plan.digest}.csv")
        )


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


def build_router() -> Router:
    router = Router(name="exchange")
    importer = Permitted(Action.IMPORT)
    router.message.register(cmd_export, Command("export"), Permitted(Action.EXPORT))
    router.message.register(cmd_import, Command("import"), importer)
    router.message.register(refuse, Command("export", "import"))
    router.message.register(on_import_file, StateFilter(ImportForm.file), importer)
    router.callback_query.register(on_import_answer, ImportCb.filter(), importer)
    return router
