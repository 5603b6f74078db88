"""The field technician's queue: their open tickets, most urgent first, with the timers counting, sized for a
phone, following changes live (``noc.web.live``). Each ticket opens on the shared ticket page (``ticket_pages``),
where the technician starts work, writes the worklog, sees similar past cases and closes with a cause and a
resolution.

A technician also sees the unassigned tickets of their regions, which they may take (self-dispatch on the ticket
page). The NOC and admins open any technician's queue (``/queue?technician=NAME``) to see their load before dispatching.
"""

from __future__ import annotations

from aiohttp import web

from noc.auth import BrowserSession
from noc.keys import TICKETS
from noc.web import live
from noc.web.core import fragment, page, render
from noc.web.i18n import language_of
from noc.web.ticket_pages import technician_names
from tickets import filters

QUEUE_ROLES = ("technician", "noc", "admin")
routes = web.RouteTableDef()


@routes.get("/queue")
@page(*QUEUE_ROLES)
async def queue(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    name = request.query.get("technician", "").strip() or None
    if name is None and viewer.user.role != "technician":
        # Not a technician themselves: choose whose queue to look at.
        return render(request, "queue.html", tickets=None, technician=None, technicians=await technician_names(request))
    service = request.app[TICKETS]
    tickets = await service.queue(viewer.user.username, name)
    queue_html = fragment(request, "_queue.html", tickets=tickets, technician=name)
    takeable = []
    if name is None:  # their own queue: what they could take besides
        visible = await service.list_tickets(viewer.user.username, filters.OPEN)
        takeable = [t for t in visible if t.technician is None and t.account is not None]
    return render(
        request,
        "queue.html",
        tickets=tickets,
        technician=name,
        technicians=[],
        queue_html=queue_html,
        takeable=takeable,
    )


@routes.get("/queue/events")
@page(*QUEUE_ROLES)
async def queue_events(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    """The queue again whenever it changes: a ticket dispatched to the technician appears without a reload."""
    name = request.query.get("technician", "").strip() or None
    tickets = request.app[TICKETS]
    await tickets.queue(viewer.user.username, name)  # a bad name or a non-technician's own queue: refused up front

    async def region() -> str:
        found = await tickets.queue(viewer.user.username, name)
        return fragment(request, "_queue.html", tickets=found, technician=name)

    key = ("queue", viewer.user.username, name, language_of(request))  # one viewer's view of one queue
    return await live.stream(request, QUEUE_ROLES, region, key)
