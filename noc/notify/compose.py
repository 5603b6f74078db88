"""A notice in words, in the recipient's language (zh-CN by default, en), with the link to the ticket's page.
Pure.

A message is made only of the ticket's facts (reference, priority, title, device, circuit, region, accounts, the
instant) and the link: never a contact, a credential or a channel's secret, which are not in its input. The title
can hold words a person typed (a complaint's summary): anything in it that looks like a phone number or an e-mail
address is masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

from noc.notify.accounts import AccountNotice, AccountNoticeKind
from noc.notify.events import Notice, NoticeKind

# 7 to 15 digits, optionally "+"-prefixed and split by single spaces or hyphens: what phone numbers look like.
_PHONE = re.compile(r"(?<![\w.])\+?\d(?:[ -]?\d){6,14}(?![\w.])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MASK = "***"


@dataclass(frozen=True, slots=True)
class Composed:
    subject: str
    text: str
    link: str


_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "ticket": "故障单",
        "incident": "事件",
        NoticeKind.OPENED: "新{what} {ref}：{title}",
        NoticeKind.REOPENED: "{what} {ref} 已重新打开：{title}",
        NoticeKind.WARNING: "{what} {ref} {timer}时限即将到期：{title}",
        NoticeKind.ESCALATION: "{what} {ref} 已升级至第 {level} 级（{timer}超时）：{title}",
        NoticeKind.CLEARED: "{what} {ref} 故障已消除：{title}",
        NoticeKind.RESOLVED: "{what} {ref} 已解决：{title}",
        "response": "响应",
        "restoration": "修复",
        "priority": "优先级",
        "device": "设备",
        "circuit": "电路",
        "region": "区域",
        "accounts": "客户",
        "detected": "发现时间",
        "link": "详情",
        AccountNoticeKind.CONTRACT_EXPIRY: (
            "合同 {contract}（{account}）将于 {valid_to} 到期，剩余 {days_left} 天，请及时续约"
        ),
        AccountNoticeKind.CONTACTS_REVERIFY: (
            "{account} 有 {due} 位联系人需要重新核实（上次核实早于 {cutoff} 或从未核实）"
        ),
        "tier": "客户等级",
    },
    "en": {
        "ticket": "Ticket",
        "incident": "Incident",
        NoticeKind.OPENED: "New {what} {ref}: {title}",
        NoticeKind.REOPENED: "{what} {ref} reopened: {title}",
        NoticeKind.WARNING: "{what} {ref}: {timer} time nearly up: {title}",
        NoticeKind.ESCALATION: "{what} {ref} escalated to level {level} ({timer} time exceeded): {title}",
        NoticeKind.CLEARED: "{what} {ref}: fault cleared: {title}",
        NoticeKind.RESOLVED: "{what} {ref} resolved: {title}",
        "response": "response",
        "restoration": "restoration",
        "priority": "Priority",
        "device": "Device",
        "circuit": "Circuit",
        "region": "Region",
        "accounts": "Accounts",
        "detected": "Detected",
        "link": "Details",
        AccountNoticeKind.CONTRACT_EXPIRY: (
            "Contract {contract} ({account}) ends on {valid_to}, {days_left} day(s) left: renew it"
        ),
        AccountNoticeKind.CONTACTS_REVERIFY: (
            "{account}: {due} contact(s) due for re-verification (last verified before {cutoff}, or never)"
        ),
        "tier": "Account tier",
    },
}


def mask_personal(text: str) -> str:
    return _PHONE.sub(MASK, _EMAIL.sub(MASK, text))


def ticket_path(ticket_id: int) -> str:
    return f"/tickets/{ticket_id}"


def ticket_link(public_url: str, ticket_id: int) -> str:
    return public_url.rstrip("/") + ticket_path(ticket_id)


def account_path(account: str) -> str:
    return f"/accounts/{quote(account, safe='')}"


def _instant(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def compose(notice: Notice, language: str, public_url: str) -> Composed:
    words = _WORDS.get(language, _WORDS["zh-CN"])
    ticket = notice.ticket
    link = ticket_link(public_url, ticket.ticket_id)
    headline = words[notice.kind].format(
        what=words["incident" if ticket.incident else "ticket"],
        ref=ticket.ref,
        title=mask_personal(ticket.title),
        timer=words.get(notice.timer or "", notice.timer or ""),
        level=notice.level if notice.level is not None else "",
    )
    subject = f"[{ticket.priority}] {headline}"
    facts = [
        ("priority", ticket.priority),
        ("device", ticket.device),
        ("circuit", ticket.circuit),
        ("region", ticket.region),
        ("accounts", ", ".join(ticket.accounts) or None),
        ("detected", _instant(ticket.detected_at)),
    ]
    lines = [subject, ""]
    lines += [f"{words[label]}: {value}" for label, value in facts if value]
    lines += ["", f"{words['link']}: {link}"]
    return Composed(subject, "\n".join(lines), link)


def compose_account(notice: AccountNotice, language: str, public_url: str, cutoff: date) -> Composed:
    """An account notice in words; ``cutoff`` is the re-verification date contacts are held against."""
    words = _WORDS.get(language, _WORDS["zh-CN"])
    account = notice.account
    link = public_url.rstrip("/") + account_path(account.account)
    subject = words[notice.kind].format(
        account=account.account,
        contract=notice.contract,
        valid_to=notice.valid_to,
        days_left=notice.days_left,
        due=notice.contacts_due,
        cutoff=cutoff,
    )
    lines = [subject, "", f"{words['accounts']}: {account.account}", f"{words['tier']}: {account.tier}"]
    lines += ["", f"{words['link']}: {link}"]
    return Composed(subject, "\n".join(lines), link)
