"""The NOC lead's reviews (``/reviews``): which faults keep coming back, by device, key account or region, per
cause and month with the trend, and each technician's record; both as CSV (``/reviews/faults.csv``,
``/reviews/technicians.csv``). The rows and the choices are ``noc.store.reviews``, the arithmetic
``tickets.reviews``."""

from __future__ import annotations

from aiohttp import web

from noc.auth import BrowserSession
from noc.keys import SESSIONS
from noc.store.reviews import MAX_MONTHS, ReviewChoice, load_reviews, review_choice
from noc.timeutil import utcnow
from noc.web.core import page, render
from tickets.reviews import FaultReview, ReviewBy, TechnicianRecord, fault_review_csv, technician_csv

routes = web.RouteTableDef()
REVIEW_ROLES = ("noc", "admin")


async def _reviews(request: web.Request) -> tuple[ReviewChoice, FaultReview, list[TechnicianRecord]]:
    choice = review_choice(request.query, utcnow().date())
    async with request.app[SESSIONS]() as session:
        review, records = await load_reviews(session, choice)
    return choice, review, records


def _csv(text: str, name: str) -> web.Response:
    return web.Response(
        text=text, content_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@routes.get("/reviews")
@page(*REVIEW_ROLES)
async def reviews_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    choice, review, records = await _reviews(request)
    return render(
        request, "reviews.html", choice=choice, review=review, records=records, bys=list(ReviewBy), most=MAX_MONTHS
    )


@routes.get("/reviews/faults.csv")
@page(*REVIEW_ROLES)
async def faults_csv(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    choice, review, _ = await _reviews(request)
    return _csv(fault_review_csv(review), f"recurring-faults-by-{choice.by.value}-{review.months[-1]}.csv")


@routes.get("/reviews/technicians.csv")
@page(*REVIEW_ROLES)
async def technicians_csv(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    _, review, records = await _reviews(request)
    return _csv(technician_csv(records), f"technicians-{review.months[-1]}.csv")
