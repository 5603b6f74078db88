"""Who is told of a notice: the routes of the settings whose filters all match it, each naming roles and
recipients; a recipient limited to regions or accounts hears only of tickets (and key accounts) there. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from noc.notify.accounts import AccountNotice
from noc.notify.events import Notice, TicketFacts
from noc.settings import NotifyRecipient, NotifyRoute, NotifySettings


def _within(allowed: tuple[str, ...] | tuple[int, ...], value: object) -> bool:
    return not allowed or value in allowed


def route_matches(route: NotifyRoute, notice: Notice) -> bool:
    ticket = notice.ticket
    return (
        notice.kind.value in route.events
        and _within(route.priorities, ticket.priority)
        and _within(route.levels, notice.level)
        and _within(route.tiers, ticket.tier)
        and _within(route.regions, ticket.region)
        and _within(route.sources, ticket.source)
    )


def reaches(recipient: NotifyRecipient, region: str | None, accounts: tuple[str, ...]) -> bool:
    if recipient.regions and region not in recipient.regions:
        return False
    return not recipient.accounts or bool(set(recipient.accounts) & set(accounts))


def _told(
    routes: Sequence[NotifyRoute], settings: NotifySettings, region: str | None, accounts: tuple[str, ...]
) -> list[NotifyRecipient]:
    """Each recipient the routes name (by name or role) and whose limits let them hear of it, once, in the order
    the settings list them."""
    return [
        recipient
        for recipient in settings.recipients
        if any(recipient.name in r.recipients or recipient.role in r.roles for r in routes)
        and reaches(recipient, region, accounts)
    ]


def recipients_for(notice: Notice, settings: NotifySettings) -> list[NotifyRecipient]:
    ticket: TicketFacts = notice.ticket
    return _told([r for r in settings.routes if route_matches(r, notice)], settings, ticket.region, ticket.accounts)


def account_recipients_for(notice: AccountNotice, settings: NotifySettings) -> list[NotifyRecipient]:
    """An account notice's routes: those listing its kind, by the account's tier and region (a route that lists
    account notices has no ticket filters: the settings refuse them)."""
    account = notice.account
    routes = [
        r
        for r in settings.routes
        if notice.kind.value in r.events and _within(r.tiers, account.tier) and _within(r.regions, account.region)
    ]
    return _told(routes, settings, account.region, (account.account,))
