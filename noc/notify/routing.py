"""Who is told of a notice: the routes of the settings whose filters all match it, each naming roles and
recipients; a recipient limited to regions or accounts hears only of tickets there. Pure."""

from __future__ import annotations

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


def reaches(recipient: NotifyRecipient, ticket: TicketFacts) -> bool:
    if recipient.regions and ticket.region not in recipient.regions:
        return False
    return not recipient.accounts or bool(set(recipient.accounts) & set(ticket.accounts))


def recipients_for(notice: Notice, settings: NotifySettings) -> list[NotifyRecipient]:
    """Each recipient once, in the order the settings list them."""
    routes = [r for r in settings.routes if route_matches(r, notice)]
    return [
        recipient
        for recipient in settings.recipients
        if any(recipient.name in r.recipients or recipient.role in r.roles for r in routes)
        and reaches(recipient, notice.ticket)
    ]
