"""``noc reviews faults|technicians``: the NOC lead's reviews as CSV on standard output, the same as the reviews
page's CSV (``noc.store.reviews`` reads and chooses, ``tickets.reviews`` counts). Bad options exit 2 naming the
option; nothing is written."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from noc import dbadmin
from noc.db import create_engine, session_factory
from noc.settings import Settings
from noc.store.reviews import MAX_MONTHS, load_reviews, review_choice
from noc.timeutil import utcnow
from tickets.reviews import ReviewBy, fault_review_csv, technician_csv


def cmd_reviews(settings: Settings, args: argparse.Namespace) -> int:
    options = {"months": args.months, "by": args.by, "recurring": "no" if args.all else "yes", "to": args.to or ""}
    choice = review_choice(options, utcnow().date())

    async def main() -> str:
        engine = create_engine(settings.database_url)
        try:
            await dbadmin.require_current(engine)
            async with session_factory(engine)() as session:
                review, records = await load_reviews(session, choice)
        finally:
            await engine.dispose()
        return fault_review_csv(review) if args.reviews_command == "faults" else technician_csv(records)

    sys.stdout.write(asyncio.run(main()))
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``reviews`` to the ``noc`` command's subcommands."""
    window = argparse.ArgumentParser(add_help=False)
    window.add_argument("--months", default="6", help=f"how many calendar months (UTC), 1 to {MAX_MONTHS}; default 6")
    window.add_argument("--to", help="the last month, YYYY-MM (default: this month)")
    reviews = sub.add_parser("reviews", help="recurring faults and technicians' records, as CSV")
    which = reviews.add_subparsers(dest="reviews_command", required=True)
    p = which.add_parser("faults", parents=[window], help="faults per device, account or region, cause and month")
    p.add_argument("--by", default=ReviewBy.DEVICE.value, help="device (default), account or region")
    p.add_argument("--all", action="store_true", help="every fault, not only what recurred (two or more)")
    p.set_defaults(func=cmd_reviews)
    p = which.add_parser("technicians", parents=[window], help="tickets held, timers met or missed, satisfaction")
    p.set_defaults(func=cmd_reviews, by=ReviewBy.DEVICE.value, all=False)
