"""The field technician's queue: their open tickets, most urgent first, with the timers counting, sized for a
phone. Each ticket opens on the shared ticket page (``ticket_pages``), where the technician starts work, writes
the worklog, sees similar past cases and closes with a cause and a resolution.

The NOC and admins open any technician's queue (``/queue?technician=NAME``) to see their load before dispatching.
"""

from __future__ import annotations

from aiohttp import web

from noc.app import TICKETS
from noc.auth import BrowserSession
from noc.web.core import page, render
from noc.web.ticket_pages import technician_names

QUEUE_ROLES = ("technician", "noc", "admin")
routes = web.RouteTableDef()


@routes.get("/queue")
@page(*QUEUE_ROLES)
async def queue(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    name = request.query.get("technician", "").strip() or None
    if name is None and viewer.user.role != "technician":
        # Not a technician themselves: choose whose queue to look at.
        return render(request, "queue.html", tickets=None, technician=None, technicians=await technician_names(request))
    tickets = await request.app[TICKETS].queue(viewer.user.username, name)
    return render(request, "queue.html", tickets=tickets, technician=name, technicians=[])
