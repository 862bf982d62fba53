"""The command line of `clientbase`: which commands there are and what each accepts."""

from __future__ import annotations

import argparse
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientbase",
        description="A shop's customer base and loyalty program in Telegram.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot (the default; without BOT_TOKEN it starts the local sandbox)"
    )
    sandbox = commands.add_parser("sandbox", help="chat with the bot in this terminal, no token")
    sandbox.add_argument(
        "--database-url",
        default=None,
        help="the sandbox's own database (default: SANDBOX_DATABASE_URL or "
        "./clientbase-sandbox.db); never the shop's DATABASE_URL",
    )
    sandbox.add_argument(
        "--whatsapp",
        action="store_true",
        help="chat as a WhatsApp customer (a local fake of the Cloud API) instead of Telegram",
    )
    commands.add_parser("migrate", help="bring the database schema up to date and exit")

    qr = commands.add_parser("qr", help="write QR codes and A4/A6 posters for a store's source")
    qr.add_argument("--store", required=True, help="store name or address, e.g. 'Тверская, 1'")
    qr.add_argument("--campaign", default="", help="where it hangs or the campaign, e.g. Касса")
    qr.add_argument(
        "--employee", action="append", default=[], help="employee name (repeat for several)"
    )
    qr.add_argument("--format", choices=["png", "pdf"], default="pdf", help="poster format")
    qr.add_argument("--out", type=Path, default=Path("qr"), help="folder for the files (./qr)")

    listing = commands.add_parser("sources", help="list sources; enable or disable one")
    switch = listing.add_mutually_exclusive_group()
    switch.add_argument("--enable", type=int, metavar="ID")
    switch.add_argument("--disable", type=int, metavar="ID", help="e.g. a lost or retired code")

    receipt = commands.add_parser(
        "receipt", help="a purchase QR for a receipt printer: the customer scans it for points"
    )
    receipt.add_argument("--store", default="", help="the store (receipt numbers are per store)")
    receipt.add_argument("--amount", required=True, help="purchase amount in roubles, e.g. 1250.50")
    receipt.add_argument("--receipt", default=None, help="the till's receipt number, e.g. R-42")
    receipt.add_argument("--paper", type=int, choices=[58, 80], default=58, help="roll width, mm")
    receipt.add_argument("--out", type=Path, default=Path("."), help="folder for the PNG")

    token = commands.add_parser("pos-token", help="issue an API token for a store's till")
    token.add_argument("--store", required=True, help="the store the till belongs to")
    token.add_argument(
        "--revoke", action="store_true", help="revoke every token of the store instead"
    )

    adjust = commands.add_parser("adjust", help="correct a member's points by hand, with a reason")
    adjust.add_argument("--customer", required=True, help="card number or phone")
    adjust.add_argument("--points", type=int, required=True, help="e.g. 50 or -20")
    adjust.add_argument("--reason", required=True, help="kept in the ledger with who did it")
    adjust.add_argument("--by", default="owner", help="who makes it (default: owner)")

    jobs = commands.add_parser("jobs", help="scheduled jobs: next and last run; run one by hand")
    job_commands = jobs.add_subparsers(dest="jobs_command", metavar="run")
    run_one = job_commands.add_parser("run", help="run a job now as it would have run that day")
    run_one.add_argument("name", help="birthday, expiring_points, points_expiry, …")
    run_one.add_argument("--date", default=None, help="the day, YYYY-MM-DD (default: today)")

    stats = commands.add_parser("stats", help="the base's figures (or `sources`: the funnel)")
    stats.add_argument("report", nargs="?", choices=["sources"], help="sources: the signup funnel")

    export = commands.add_parser("export", help="write the customer base as XLSX or CSV")
    export.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    imp = commands.add_parser("import", help="bring in an old base from an XLSX or CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="only show what would happen")
    imp.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    imp.add_argument("--invites", type=Path, help="write the personal invite links (CSV) here")
    program = commands.add_parser("program", help="the loyalty program; `set KEY VALUE` changes it")
    program_commands = program.add_subparsers(dest="program_command", metavar="set")
    program_set = program_commands.add_parser("set", help="change one value (audited)")
    program_set.add_argument("key", help="e.g. welcome_bonus, tiers, redeem_cap_percent")
    program_set.add_argument("value", help='e.g. 150, or "Base:0:5, Silver:10000:7"')
    promos = commands.add_parser("promos", help="promotions with their codes and uses")
    switch = promos.add_mutually_exclusive_group()
    switch.add_argument("--enable", type=int, metavar="ID")
    switch.add_argument("--disable", type=int, metavar="ID", help="its codes are refused")
    promo_commands = promos.add_subparsers(dest="promos_command", metavar="create")
    create = promo_commands.add_parser("create", help="a new promotion (prints its code)")
    create.add_argument("--name", required=True, help="what customers see, e.g. 'Осень'")
    create.add_argument("--kind", required=True, choices=["percent", "fixed", "points"])
    create.add_argument(
        "--value", required=True, help="percent 1-99, roubles off (fixed) or bonus points"
    )
    create.add_argument(
        "--days", type=int, default=None, help="valid this many days (default: no end)"
    )
    create.add_argument(
        "--multi", action="store_true", help="a customer may use it again (default: once)"
    )
    create.add_argument(
        "--personal",
        action="store_true",
        help="unique codes per customer, handed out with a broadcast (no shared code)",
    )
    create.add_argument("--max-uses", type=int, default=None, help="uses of a code in all")
    create.add_argument("--by", default="owner", help="who creates it (default: owner)")
    log = commands.add_parser("audit", help="the audit log, newest first")
    log.add_argument("--page", type=int, default=1)

    owner = commands.add_parser("owner", help="the shop's owners kept in the database")
    owner_commands = owner.add_subparsers(dest="owner_command", metavar="add|list|remove")
    owner_commands.required = True
    owner_add = owner_commands.add_parser("add", help="make this Telegram id an owner")
    owner_add.add_argument("telegram_id", type=int, metavar="ID", help="/id in the bot tells it")
    owner_commands.add_parser("list", help="owners from OWNER_IDS and the database")
    owner_remove = owner_commands.add_parser("remove", help="deactivate an owner of the database")
    owner_remove.add_argument("telegram_id", type=int, metavar="ID")
    _campaign_commands(commands)
    return parser


def _campaign_commands(commands: argparse._SubParsersAction) -> None:
    """`broadcast`, `campaigns`, `segments` (bot/cli/campaigns.py)."""
    send = commands.add_parser(
        "broadcast", help="queue a broadcast to a saved segment (or all); the bot sends it"
    )
    send.add_argument("--segment", required=True, help="a saved segment's name, or all")
    send.add_argument("--text", required=True, help="the message; Telegram HTML: <b>, <i>, <a>…")
    send.add_argument("--photo", type=Path, help="a photo (JPEG/PNG, up to 10 MB)")
    send.add_argument("--button-url", help="a link button under the message")
    send.add_argument(
        "--promotion",
        type=int,
        metavar="ID",
        help="a personal-code promotion: each recipient gets their own code ({code} in the text "
        "shows it, otherwise a 'show my promo code' button)",
    )
    send.add_argument("--at", help='start later: "YYYY-MM-DD HH:MM" in the shop\'s TIMEZONE')
    send.add_argument(
        "--holdout",
        type=int,
        help="percent held out as a control group (BROADCAST_HOLDOUT_PERCENT)",
    )
    send.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    listing = commands.add_parser("campaigns", help="campaigns with progress and results")
    change = listing.add_mutually_exclusive_group()
    change.add_argument("--pause", type=int, metavar="ID")
    change.add_argument("--resume", type=int, metavar="ID")
    change.add_argument("--cancel", type=int, metavar="ID")
    listing.add_argument("--limit", type=int, default=20, help="how many, newest first")

    saved = commands.add_parser("segments", help="saved segments and their sizes; save one")
    actions = saved.add_subparsers(dest="segments_command", metavar="save|delete")
    save = actions.add_parser("save", help="save a segment under a name from filters")
    save.add_argument("name")
    save.add_argument(
        "--lifecycle",
        choices=["potential", "one_purchase", "active", "quiet", "vip", "mailing_only"],
    )
    save.add_argument("--gender", choices=["female", "male"])
    save.add_argument("--age-min", type=int)
    save.add_argument("--age-max", type=int)
    save.add_argument("--birthday-month", type=int, metavar="1-12")
    save.add_argument("--city", action="append", default=[], help="repeat for several")
    save.add_argument("--interest", action="append", default=[], help="any of; repeat")
    save.add_argument("--source", action="append", type=int, default=[], metavar="ID")
    save.add_argument("--tier", help="a tier's name from TIERS")
    save.add_argument("--spend-min", type=int, metavar="ROUBLES")
    save.add_argument("--spend-max", type=int, metavar="ROUBLES")
    save.add_argument("--purchases-min", type=int)
    save.add_argument("--purchases-max", type=int)
    save.add_argument("--last-purchase-before", metavar="YYYY-MM-DD")
    save.add_argument("--last-purchase-after", metavar="YYYY-MM-DD")
    save.add_argument("--rfm", metavar="RFM", help="least R, F, M scores 1-5, e.g. 344")
    remove = actions.add_parser("delete", help="delete a saved segment")
    remove.add_argument("name")
