"""The fault case library's search: the past cases most similar to a ticket's symptoms, best first.

One seam, two engines: SQLite's FTS5 (BM25) and PostgreSQL's full-text search (``ts_rank``). The query is the
ticket's words OR-ed together - similarity, not a filter: a case sharing more (and rarer) words ranks higher.

No persistent index is kept: on SQLite the cases are loaded into a connection-private ``temp`` FTS5 table for the
query, on PostgreSQL ``to_tsvector`` is computed on the fly. A case library is hundreds to a few thousand rows, and
this keeps the schema plain (the models-vs-migrations check sees only ordinary tables). A GIN expression index or
a trigger-kept FTS5 table is the step up if the library grows large.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tickets.errors import InvalidRequest
from tickets.models import FaultCase

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TERMS = 32


@dataclass(frozen=True, slots=True)
class CaseMatch:
    case_id: int
    ticket_id: int
    cause_category: str
    platform: str
    symptoms: str
    resolution: str
    score: float  # higher is more similar; comparable within one result list only


def search_text(symptoms: str, cause_category: str, platform: str, resolution: str) -> str:
    """What a case is found by: its symptoms, cause, platform (with its vendor word) and resolution."""
    return " ".join([symptoms, cause_category.replace("_", " "), platform, platform.replace("_", " "), resolution])


def terms(query: str) -> list[str]:
    """Distinct lower-case words of two characters or more: safe to put in either engine's query syntax."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if len(word) > 1:
            seen.setdefault(word, None)
    return list(seen)[:MAX_TERMS]


async def similar_cases(session: AsyncSession, query: str, limit: int) -> list[CaseMatch]:
    words = terms(query)
    if not words or limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        ranked = await _sqlite_fts5(session, words, limit)
    elif dialect == "postgresql":
        ranked = await _postgres_fts(session, words, limit)
    else:  # the product runs on these two; any other engine is a deployment error, said plainly
        raise InvalidRequest(f"database_url: case search supports SQLite and PostgreSQL, not {dialect}")
    if not ranked:
        return []
    found = await session.scalars(select(FaultCase).where(FaultCase.id.in_([cid for cid, _ in ranked])))
    by_id = {case.id: case for case in found}
    return [
        CaseMatch(c.id, c.ticket_id, c.cause_category, c.platform, c.symptoms, c.resolution, score)
        for c, score in ((by_id.get(cid), score) for cid, score in ranked)
        if c is not None
    ]


async def _sqlite_fts5(session: AsyncSession, words: list[str], limit: int) -> list[tuple[int, float]]:
    await session.execute(
        text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fault_case_search "
            "USING fts5(case_id UNINDEXED, body, tokenize='porter unicode61')"
        )
    )
    try:
        await session.execute(text("DELETE FROM temp.fault_case_search"))
        await session.execute(
            text("INSERT INTO temp.fault_case_search (case_id, body) SELECT id, search_text FROM fault_cases")
        )
        match = " OR ".join(f'"{w}"' for w in words)
        rows = await session.execute(
            text(
                "SELECT case_id, bm25(fault_case_search) AS rank FROM temp.fault_case_search "
                "WHERE fault_case_search MATCH :match ORDER BY rank, case_id DESC LIMIT :limit"
            ),
            {"match": match, "limit": limit},
        )
        # bm25 is lower-is-better; turn it round so both engines agree that higher is more similar.
        return [(int(r[0]), -float(r[1])) for r in rows]
    finally:
        await session.execute(text("DROP TABLE IF EXISTS temp.fault_case_search"))


async def _postgres_fts(session: AsyncSession, words: list[str], limit: int) -> list[tuple[int, float]]:
    # to_tsquery with words that are letters and digits only: OR them (plainto/websearch would AND them).
    query = " | ".join(words)
    rows = await session.execute(
        text(
            "SELECT id, ts_rank(to_tsvector('english', search_text), q) AS rank "
            "FROM fault_cases, to_tsquery('english', :query) AS q "
            "WHERE to_tsvector('english', search_text) @@ q ORDER BY rank DESC, id DESC LIMIT :limit"
        ),
        {"query": query, "limit": limit},
    )
    return [(int(r[0]), float(r[1])) for r in rows]
