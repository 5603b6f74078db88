"""The server-rendered pages: Jinja2 templates, no front-end build step, readable on a phone.

One module per audience, each with its own route table: ``login`` (sign in/out), ``board`` (the NOC board with
its live feed), ``technician`` (the technician's queue), ``ticket_pages`` (every role's ticket list and ticket page:
detail, worklog, similar cases, the steps and the close form), ``accounts`` (the account manager's
accounts, health archive, SLA and weekly reports), ``admin`` (inventory view and import), ``admin_users`` (users,
sign-in delays, the audit reader), ``network`` (devices, interfaces and circuits with their graphs), ``search``
(what the header's search box finds). ``core`` holds what they share: the viewer, role checks, CSRF and error
pages.
"""

from __future__ import annotations

from aiohttp import web


def setup_web(app: web.Application) -> None:
    # Imported here: the page modules use noc.app's keys, and noc.app calls this.
    from noc.web import (
        accounts,
        admin,
        admin_users,
        board,
        core,
        live,
        login,
        network,
        reviews,
        search,
        technician,
        ticket_pages,
    )

    app[core.JINJA] = core.environment()
    app.middlewares.insert(0, core.unavailable)
    app.middlewares.append(core.middleware)
    app.router.add_static("/static/", core.HERE / "static", append_version=True)
    live.setup_live(app)
    login.setup_login(app)
    network.setup_network(app)
    for module in (board, technician, ticket_pages, accounts, admin, admin_users, search, reviews):
        app.router.add_routes(module.routes)
