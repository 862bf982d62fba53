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
    log = commands.add_parser("audit", help="the audit log, newest first")
    log.add_argument("--page", type=int, default=1)
    return parser
