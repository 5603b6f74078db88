"""``noc tickets ...`` and ``noc accounts show``: fault tickets and key-account records from the command line.

Every command acts as a user (``--as USERNAME``, else ``$NOC_USER``), so the role rules apply as they do in the
web app; the claim is not a sign-in, so every audit row written (a contact read) also names the OS user who ran
it. Exit codes: 0 done; 1 refused (the role may not), conflict (someone else changed the ticket first) or a step
the lifecycle does not allow; 2 bad input (unknown ticket, user or option; nothing changed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from noc import audit, dbadmin
from noc.crypto import secret_box_for
from noc.db import create_engine
from noc.errors import InputError
from noc.settings import Settings, TicketSettings
from noc.store.compliance import StoredSlaCompliance
from tickets import filters
from tickets.errors import TicketError
from tickets.fieldservice import FieldWork
from tickets.records import HealthArchive
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketDetail, TicketService, TicketSummary

Body = Callable[[TicketService, str], Awaitable[int]]


def _ticket_settings(settings: Settings) -> TicketSettings:
    return settings.tickets


def _user(args: argparse.Namespace) -> str:
    user: str | None = args.as_user or os.environ.get("NOC_USER")
    if not user:
        raise InputError("say who you are: --as USERNAME or NOC_USER")
    return user


def _run(settings: Settings, args: argparse.Namespace, body: Body, *, needs_box: bool = False) -> int:
    user = _user(args)
    box = None
    if needs_box:
        box = secret_box_for(settings)

    async def main() -> int:
        engine = create_engine(settings.database_url)
        try:
            await dbadmin.require_current(engine)
            sessions = audit.cli_sessions(engine)
            history = StoredSlaCompliance(sessions, settings.tickets.sla_history_months)
            service = TicketService(sessions, _ticket_settings(settings), box=box, sla_source=history)
            return await body(service, user)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except TicketError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _at(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}Z" if value else "-"


def _print_summary_line(t: TicketSummary) -> None:
    print(
        f"{t.ref:7} {t.status:16} {t.priority:3} {t.impact:12} {t.account or '-':15} {t.circuit or '-':14} "
        f"{t.technician or '-':10} {_at(t.detected_at)}  {t.title}"
    )


def _print_detail(d: TicketDetail) -> None:
    t = d.summary
    print(f"{t.ref}  {t.title}")
    print(f"  status {t.status}  priority {t.priority}  impact {t.impact}  version {t.version}")
    print(f"  account {t.account or '-'}  circuit {t.circuit or '-'}  device {t.device or '-'}  cause {t.cause}")
    print(f"  technician {t.technician or '-'}  escalation level {t.escalation_level}  recurrences {t.recurrences}")
    print(f"  detected {_at(t.detected_at)}  answered {_at(t.acknowledged_at)}")
    print(f"  response due {_at(t.response_due_at)}  restoration due {_at(t.restore_due_at)}")
    v = t.restore_verdict
    if v is not None:
        verdict = "met" if v.met else f"BREACHED by {v.breached_by_s:g} s"
        print(f"  restoration {verdict}: {v.net_s:g} s net of stop-clock, limit {v.limit_s} s")
    if t.parent_id:
        print(f"  part of incident I-{t.parent_id}")
    if d.children:
        print(f"  tickets: {', '.join(d.children)}")
    if d.cause_category or d.resolution:
        print(f"  cause {d.cause_category or '-'}: {d.resolution or '-'}")
    if d.rating:
        print(f"  rating {d.rating.score}/5 {d.rating.comment}")
    print("history:")
    for tr in d.transitions:
        print(f"  {_at(tr.at)} {tr.actor:18} {tr.from_status or '-'} -> {tr.to_status}")
    for ev in d.events:
        print(f"  {_at(ev.at)} {ev.actor:18} {ev.kind} {json.dumps(ev.detail)}")
    if d.worklog:
        print("worklog:")
        for w in d.worklog:
            print(f"  {_at(w.at)} {w.author:18} {w.text}")
    if d.contacts is not None:
        print("contacts (read audited):")
        for c in d.contacts:
            print(f"  {c.role}: {c.name}  {c.phone or '-'}  {c.email or '-'}")
    if d.suggestions:
        print("similar past cases (best first):")
        for s in d.suggestions:
            print(f"  case {s.case_id} (T-{s.ticket_id}, {s.platform}, {s.cause_category}): {s.resolution}")


def _detail_json(d: TicketDetail) -> dict[str, Any]:
    def rows(items: tuple[Any, ...], *names: str) -> list[dict[str, Any]]:
        return [{n: _plain(getattr(i, n)) for n in names} for i in items]

    return {
        **d.summary.to_json(),
        "symptoms": d.symptoms,
        "children": list(d.children),
        "transitions": rows(d.transitions, "at", "actor", "from_status", "to_status"),
        "events": rows(d.events, "at", "actor", "kind", "detail"),
        "worklog": rows(d.worklog, "at", "author", "text"),
        "recurrences": rows(d.recurrences, "detected_at", "source", "impact", "summary"),
        "stop_clock": rows(d.stop_clock, "start_at", "end_at", "reason"),
        "cause_category": d.cause_category,
        "resolution": d.resolution,
        "rating": {"score": d.rating.score, "comment": d.rating.comment} if d.rating else None,
        "suggestions": [_plain(asdict(s)) for s in d.suggestions],
        "contacts": None if d.contacts is None else [_plain(asdict(c)) for c in d.contacts],
    }


def _print_health(h: HealthArchive) -> None:
    print(f"{h.account}  {h.legal_name}  tier {h.tier}  region {h.region or '-'}")
    print(f"  account manager {h.account_manager or '-'}  auto-resolve {'yes' if h.auto_resolve else 'no'}")
    print(f"  services {', '.join(h.services) or '-'}  open tickets {h.open_tickets}")
    sat = f"{h.satisfaction_avg:.1f}/5 from {h.satisfaction_count}" if h.satisfaction_avg is not None else "no ratings"
    print(f"  satisfaction {sat}")
    print("contracts:")
    for c in h.contracts:
        print(
            f"  {c.name}  {c.valid_from} .. {c.valid_to}  availability {c.availability_target_pct} %  "
            f"response {c.response_time_s // 60} min  restoration {c.restore_time_s // 60} min  "
            f"archive {c.archive_ref or '-'}"
        )
    for r in h.reminders:
        print(f"  REMINDER: {r.contract} expires {r.valid_to} (in {r.days_left} days): tell {r.notify or '-'}")
    print("circuits:")
    for ci in h.circuits:
        print(f"  {ci.name}  {ci.device} {ci.interface} -> {ci.far_end_address or '-'}  {ci.service}  ({ci.region})")
    print("SLA compliance:")
    if not h.sla_compliance:
        print("  (no month measured)")
    for s in h.sla_compliance:
        result = "met" if s.met else "MISSED"
        missed = [o.objective for o in s.objectives if o.met is False]
        print(
            f"  {s.month} {s.contract}: availability {s.availability_pct} % of {s.target_pct} %  {result}"
            + (f" ({', '.join(missed)} missed)" if missed else "")
            + (f"  credit {s.credit}" if s.credit else "")
        )
    print("fault history:")
    for f in h.fault_history:
        print(f"  {f.ticket:7} {f.status:16} {f.priority} {f.circuit or '-':14} {f.cause}  {_at(f.detected_at)}")
    print("change history:")
    for ch in h.change_history:
        print(f"  {_at(ch.at)} {ch.actor:12} {ch.action:8} {ch.entity[:-1]} {ch.name}: {', '.join(ch.changed_fields)}")
    if h.contacts is None:
        print(f"contacts: {h.contact_count} on record (--contacts to read them; the read is audited)")
    else:
        print("contacts (read audited):")
        for person in h.contacts:
            print(f"  {person.role}: {person.name}  {person.phone or '-'}  {person.email or '-'}  ({person.purpose})")


# --- commands ------------------------------------------------------------------------------------------------


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    async def body(svc: TicketService, user: str) -> int:
        if args.queue:
            tickets = await svc.queue(user, args.technician)
        else:
            given = vars(args)  # the options are named as the filters' fields (a list: a repeated option)
            values = {n: ",".join(v) if isinstance(v, list) else v for n in filters.FIELDS if (v := given.get(n))}
            tickets = await svc.list_tickets(user, filters.filter_from(values), args.technician)
        if args.json:
            print(json.dumps([t.to_json() for t in tickets]))
        else:
            for t in tickets:
                _print_summary_line(t)
        return 0

    return _run(settings, args, body)


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    async def body(svc: TicketService, user: str) -> int:
        detail = await svc.show_ticket(user, args.id, with_contacts=args.contacts)
        if args.json:
            print(json.dumps(_detail_json(detail)))
        else:
            _print_detail(detail)
        return 0

    return _run(settings, args, body, needs_box=args.contacts)


def _step(call: Callable[[TicketService, str, argparse.Namespace], Awaitable[TicketSummary]], done: str) -> Any:
    def command(settings: Settings, args: argparse.Namespace) -> int:
        async def body(svc: TicketService, user: str) -> int:
            t = await call(svc, user, args)
            print(f"{t.ref} {done}: {t.status}" + (f", technician {t.technician}" if t.technician else ""))
            return 0

        return _run(settings, args, body)

    return command


def _until(args: argparse.Namespace) -> datetime | None:
    return filters.parse_instant("until", args.until) if args.until else None


cmd_ack = _step(lambda s, u, a: s.acknowledge(u, a.id, note=a.note, until=_until(a)), "acknowledged")
cmd_take = _step(lambda s, u, a: s.take(u, a.id), "taken")
cmd_assign = _step(lambda s, u, a: s.assign(u, a.id, a.technician, auto=a.auto), "assigned")
cmd_start = _step(lambda s, u, a: s.start_work(u, a.id), "work started")
cmd_pending = _step(lambda s, u, a: s.wait_on_customer(u, a.id, a.reason), "waiting on the customer (clock stopped)")
cmd_resume = _step(lambda s, u, a: s.resume(u, a.id), "resumed")
cmd_note = _step(lambda s, u, a: s.add_note(u, a.id, a.text), "note added")
cmd_resolve = _step(lambda s, u, a: s.resolve(u, a.id, confirmed_on_site=a.on_site, note=a.note), "resolved")
cmd_close = _step(lambda s, u, a: s.close(u, a.id, a.cause, a.resolution), "closed")
cmd_reopen = _step(lambda s, u, a: s.reopen(u, a.id), "reopened")
cmd_rate = _step(lambda s, u, a: s.rate(u, a.id, a.score, a.comment), "rated")


def cmd_attach(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InputError(f"file: cannot read {path}: {exc.strerror}") from exc

    async def body(svc: TicketService, user: str) -> int:
        view = await FieldWork(svc).attach(user, args.id, path.name, content, args.note)
        print(
            f"T-{args.id}: {view.filename} attached ({view.media_type}, {view.size_bytes} bytes, sha256 {view.sha256})"
        )
        return 0

    return _run(settings, args, body)


def cmd_open(settings: Settings, args: argparse.Namespace) -> int:
    async def body(svc: TicketService, user: str) -> int:
        kind = FaultKind(args.kind)
        event = FaultEvent(
            kind, args.circuit, args.cause or kind.value, Impact(args.impact), svc.clock.now(), args.summary
        )
        outcome = await svc.report_fault(user, event)
        print(f"{outcome.ref} {outcome.action} ({outcome.priority})")
        return 0

    return _run(settings, args, body)


def cmd_timers(settings: Settings, args: argparse.Namespace) -> int:
    async def body(svc: TicketService, user: str) -> int:
        for n in await svc.run_timers():
            e = n.event
            print(f"{n.ref} {e.timer} {e.kind} level {e.level} (due {_at(e.at)}) -> {n.notify}")
        return 0

    return _run(settings, args, body)


def cmd_account_show(settings: Settings, args: argparse.Namespace) -> int:
    async def body(svc: TicketService, user: str) -> int:
        health = await svc.account_health(user, args.name, with_contacts=args.contacts)
        if args.json:
            print(json.dumps(_plain(health.to_json())))
        else:
            _print_health(health)
        return 0

    return _run(settings, args, body, needs_box=args.contacts)


# --- parser --------------------------------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``tickets`` and ``accounts`` to the ``noc`` command's subcommands."""
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--as", dest="as_user", metavar="USERNAME", help="act as this user (default: $NOC_USER)")

    tickets = sub.add_parser("tickets", help="fault tickets").add_subparsers(dest="tickets_command", required=True)
    p = tickets.add_parser("list", parents=[who], help="tickets you may see, filtered and sorted (newest first)")
    p.add_argument(
        "--status", action="append", help=f"repeatable or comma-separated: {', '.join(filters.STATUS_WORDS)}"
    )
    p.add_argument("--priority", action="append", help="repeatable or comma-separated: P1, P2 ...")
    for name, what in (("account", "key account"), ("circuit", "circuit"), ("device", "device")):
        p.add_argument(f"--{name}", help=f"part of the {what}'s name, any case")
    p.add_argument("--since", help="detected at or after: YYYY-MM-DD (UTC) or an ISO instant with zone")
    p.add_argument("--until", help="detected before: YYYY-MM-DD (through that day, UTC) or an ISO instant with zone")
    p.add_argument("--text", help="part of the title or the reported symptoms")
    p.add_argument("--sort", choices=list(filters.TicketSort), help="default newest")
    p.add_argument("--technician", help="one technician's tickets")
    p.add_argument("--queue", action="store_true", help="a technician's open tickets, most urgent first")
    p.add_argument("--json", action="store_true", help="one JSON list")
    p.set_defaults(func=cmd_list)

    p = tickets.add_parser("open", parents=[who], help="report a fault: a customer's complaint or a manual ticket")
    p.add_argument("circuit")
    p.add_argument("--summary", required=True, help="the symptoms as reported")
    p.add_argument("--impact", choices=[i.value for i in Impact], default=Impact.DEGRADED.value)
    p.add_argument("--kind", choices=[FaultKind.COMPLAINT.value, FaultKind.MANUAL.value], default="complaint")
    p.add_argument("--cause", help="deduplication key (default: the kind)")
    p.set_defaults(func=cmd_open)

    p = tickets.add_parser("show", parents=[who], help="one ticket: history, worklog, similar past cases")
    p.add_argument("id", type=int)
    p.add_argument("--contacts", action="store_true", help="also the customer's contacts (the read is audited)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    for name, func, text in (
        ("take", cmd_take, "a technician takes an unassigned ticket of their region"),
        ("start", cmd_start, "start work on site or remotely"),
        ("resume", cmd_resume, "resume work (restarts the restoration clock)"),
        ("reopen", cmd_reopen, "reopen a resolved or closed ticket"),
    ):
        p = tickets.add_parser(name, parents=[who], help=text)
        p.add_argument("id", type=int)
        p.set_defaults(func=func)

    p = tickets.add_parser("ack", parents=[who], help="acknowledge (answers the response timer)")
    p.add_argument("id", type=int)
    p.add_argument("--note", help="why, or what happens next (kept in the worklog)")
    p.add_argument("--until", help="re-alert then if nobody took it further: YYYY-MM-DD or an ISO instant with zone")
    p.set_defaults(func=cmd_ack)

    p = tickets.add_parser("pending", parents=[who], help="wait on the customer (stops the restoration clock)")
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True, help="what the customer owes us")
    p.set_defaults(func=cmd_pending)

    p = tickets.add_parser("resolve", parents=[who], help="service restored")
    p.add_argument("id", type=int)
    p.add_argument(
        "--on-site", action="store_true", help="confirmed restored on site (needed while the system sees the fault)"
    )
    p.add_argument("--note", help="what was found and done on site (with --on-site)")
    p.set_defaults(func=cmd_resolve)

    p = tickets.add_parser("assign", parents=[who], help="dispatch to a technician")
    p.add_argument("id", type=int)
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--technician", help="this technician")
    how.add_argument("--auto", action="store_true", help="by the circuit's region and platform skills")
    p.set_defaults(func=cmd_assign)

    p = tickets.add_parser("note", parents=[who], help="add a worklog note")
    p.add_argument("id", type=int)
    p.add_argument("text")
    p.set_defaults(func=cmd_note)

    p = tickets.add_parser("attach", parents=[who], help="attach a photo or file to the worklog")
    p.add_argument("id", type=int)
    p.add_argument("file", help="JPEG, PNG, WebP, PDF or plain text")
    p.add_argument("--note", help="what it shows")
    p.set_defaults(func=cmd_attach)

    p = tickets.add_parser("close", parents=[who], help="close a resolved ticket (tier A: cause and resolution)")
    p.add_argument("id", type=int)
    p.add_argument("--cause", help="cause category, e.g. fibre_cut, hardware, configuration")
    p.add_argument("--resolution", help="what was done")
    p.set_defaults(func=cmd_close)

    p = tickets.add_parser("rate", parents=[who], help="record the customer's satisfaction after closure")
    p.add_argument("id", type=int)
    p.add_argument("--score", type=int, required=True, help="1 to 5")
    p.add_argument("--comment", default="")
    p.set_defaults(func=cmd_rate)

    p = tickets.add_parser("timers", parents=[who], help="raise due timer warnings and escalations now")
    p.set_defaults(func=cmd_timers)

    accounts = sub.add_parser("accounts", help="key-account records").add_subparsers(
        dest="accounts_command", required=True
    )
    p = accounts.add_parser("show", parents=[who], help="the health archive of one key account")
    p.add_argument("name")
    p.add_argument("--contacts", action="store_true", help="also the contacts (the read is audited)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_account_show)
