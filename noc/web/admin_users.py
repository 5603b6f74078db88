"""The admin's people pages: users with their sign-in delays (unlock, activate, deactivate), and the audit reader
with filters and a CSV export. Each act goes through ``noc.auth`` and leaves its audit row; reading the audit is
audited, and so is anyone else's attempt to open it."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from noc import audit, auth
from noc import models as m
from noc.api.errors import ApiError
from noc.auth import BrowserSession
from noc.keys import SESSIONS
from noc.web.core import back, client_of, form_of, page, render

ADMIN = "admin"
routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class UserRow:
    username: str
    display_name: str
    role: str
    active: bool
    failed_attempts: int
    clients: int


def _origin(request: web.Request, viewer: BrowserSession) -> audit.Origin:
    return audit.Origin(viewer.user.username, viewer.user.role, "web", client=client_of(request))


@routes.get("/admin/users")
@page(ADMIN)
async def users_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    sessions = request.app[SESSIONS]
    locks = await auth.lock_states(sessions)
    async with sessions() as session:
        users = list(await session.scalars(select(m.User).order_by(m.User.username)))
    rows = []
    for u in users:
        lock = locks.get(u.username)
        attempts, clients = (lock.attempts, lock.clients) if lock else (0, 0)
        rows.append(UserRow(u.username, u.display_name, u.role, u.active, attempts, clients))
    return render(request, "admin_users.html", users=rows)


def _username(request: web.Request) -> str:
    name = request.match_info["name"]
    if len(name) > 64:
        raise ApiError(404, f"no user named {name[:64]!r}…", "name")
    return name


async def _acting_admin(request: web.Request, viewer: BrowserSession, action: audit.Action, name: str) -> audit.Origin:
    """The viewer as the origin of an admin's act; anyone else is refused, and the attempt recorded."""
    origin = _origin(request, viewer)
    if viewer.user.role != ADMIN:
        await auth.refuse(request.app[SESSIONS], origin, action, name, "admin only")
        raise ApiError(403, f"{viewer.user.username} ({viewer.user.role}) may not do this: admin only")
    return origin


@routes.post("/admin/users/{name}/unlock")
@page()
async def unlock(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    name = _username(request)
    origin = await _acting_admin(request, viewer, audit.Action.SIGNIN_UNLOCK, name)
    count = await auth.unlock(request.app[SESSIONS], name, origin=origin)
    raise back("/admin/users", f"{name}: {count} failed sign-in attempt(s) forgotten")


@routes.post("/admin/users/{name}/active")
@page()
async def set_active(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    name = _username(request)
    wanted = (await form_of(request)).get("active", "")
    if wanted not in ("true", "false"):
        raise ApiError(422, "active: true or false", "active")
    action = audit.Action.USER_ACTIVATE if wanted == "true" else audit.Action.USER_DEACTIVATE
    origin = await _acting_admin(request, viewer, action, name)
    if name == viewer.user.username and wanted == "false":
        raise ApiError(409, "you cannot deactivate yourself: ask another admin", "name")
    await auth.set_active(request.app[SESSIONS], name, wanted == "true", origin=origin)
    raise back("/admin/users", f"{name} is {'active' if wanted == 'true' else 'inactive'}")


async def _audit(
    request: web.Request, viewer: BrowserSession, *, export: bool
) -> tuple[audit.Filters, list[m.AuditEvent]]:
    """The rows the filters in the query select, read (and audited) as the viewer; a non-admin is refused, and
    the refusal audited."""
    action = audit.Action.AUDIT_EXPORT if export else audit.Action.AUDIT_READ
    origin = await _acting_admin(request, viewer, action, "audit")
    async with request.app[SESSIONS]() as session:
        try:
            filters = audit.filters_from(request.query)
        except audit.FilterError as exc:
            raise ApiError(400, str(exc), exc.field) from exc
        return filters, await audit.read(session, origin, filters, export=export)


@routes.get("/admin/audit")
@page()
async def audit_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    filters, rows = await _audit(request, viewer, export=False)
    return render(
        request,
        "admin_audit.html",
        rows=rows,
        filters=filters,
        given={k: v for k, v in request.query.items() if k in audit.FILTER_NAMES},
        actions=audit.ACTIONS,
        outcomes=audit.OUTCOMES,
        query_string=request.query_string,
    )


@routes.get("/admin/audit.csv")
@page()
async def audit_csv(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    _, rows = await _audit(request, viewer, export=True)
    return web.Response(
        text=audit.to_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
