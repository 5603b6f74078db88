"""What a key account's records say that its account manager should be told: a contract nearing its end (so the
renewal happens before service lapses) and contacts due for re-verification (personal data is kept accurate). Pure:
rows' fields and today's date go in, notices come out.

Each notice's ``source`` says which reminder it is, so the same reminder is never sent twice (deduplication is by
source, recipient and channel): a contract is reminded of at each stage it reaches (by default 30, 7 and 1 days
before its last day), contacts once a month while any of an account's contacts is due. A notice names the account
and the contract and counts contacts; it never carries a contact's name, number or address.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class AccountNoticeKind(StrEnum):
    CONTRACT_EXPIRY = "contract_expiry"
    CONTACTS_REVERIFY = "contacts_reverify"


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What routing and messages may use of a key account."""

    account_id: int
    account: str
    tier: str
    region: str | None


@dataclass(frozen=True, slots=True)
class ExpiringContract:
    contract_id: int
    contract: str
    valid_to: date
    account: AccountFacts


@dataclass(frozen=True, slots=True)
class UnverifiedContacts:
    """An account's contacts whose last verification is older than the interval (or never made)."""

    account: AccountFacts
    due: int


@dataclass(frozen=True, slots=True)
class AccountNotice:
    source: str
    kind: AccountNoticeKind
    account: AccountFacts
    contract: str | None = None
    valid_to: date | None = None
    days_left: int | None = None
    contacts_due: int | None = None


def expiry_stages(notice_days: int) -> tuple[int, ...]:
    """The days before the end at which a contract is reminded of: the notice period, a week, the last day."""
    return tuple(sorted({d for d in (notice_days, 7, 1) if 0 < d <= notice_days} or {notice_days}, reverse=True))


def expiry_notices(contracts: Iterable[ExpiringContract], today: date, notice_days: int) -> list[AccountNotice]:
    """One notice per contract within its notice period, for the latest stage it reached (a contract found first
    5 days before its end is reminded of once, at the 7-day stage, not three times at once)."""
    stages = expiry_stages(notice_days)
    out = []
    for c in contracts:
        days_left = (c.valid_to - today).days
        if not 0 <= days_left <= notice_days:
            continue
        stage = min(s for s in stages if days_left <= s)  # the first stage is the notice period itself
        out.append(
            AccountNotice(
                f"expiry:{c.contract_id}:{c.valid_to.isoformat()}:{stage}",
                AccountNoticeKind.CONTRACT_EXPIRY,
                c.account,
                contract=c.contract,
                valid_to=c.valid_to,
                days_left=days_left,
            )
        )
    return sorted(out, key=lambda n: (n.days_left or 0, n.contract or ""))


def reverify_cutoff(today: date, reverify_days: int) -> date:
    """Contacts verified before this date (or never) are due."""
    return today - timedelta(days=reverify_days)


def reverify_notices(due: Sequence[UnverifiedContacts], today: date) -> list[AccountNotice]:
    """One notice per account with contacts due, once per calendar month."""
    return [
        AccountNotice(
            f"reverify:{u.account.account_id}:{today:%Y-%m}",
            AccountNoticeKind.CONTACTS_REVERIFY,
            u.account,
            contacts_due=u.due,
        )
        for u in sorted(due, key=lambda u: u.account.account)
        if u.due > 0
    ]
