"""Backend-neutral table walks over the seam: several columns side by side in each GETBULK.

Walking columns together (like ``snmptable``) costs one PDU per ``max_repetitions`` rows instead of one walk per
column. Every loop is bounded: a hostile agent that repeats, reorders or never ends its answers gets a
:class:`~collectors.errors.BadAnswer` naming the device and the column, never an endless walk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from collectors.errors import BadAnswer
from collectors.snmp.client import EXCEPTION_TYPES, Oid, SnmpClient, SnmpEndpoint, VarBind, oid_str

# Varbinds asked per GETBULK (repetitions = this // columns). Fewer, larger PDUs cost less CPU on both sides;
# an agent whose answer would be too big truncates it, and the walk simply continues from where it stopped.
DEFAULT_MAX_VARBINDS_PER_PDU = 120
DEFAULT_MAX_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class WalkResult:
    """Per requested column: {row index suffix: varbind}. ``scalars`` are the non-repeater answers."""

    scalars: tuple[VarBind, ...]
    columns: dict[Oid, dict[Oid, VarBind]]
    requests: int


async def walk_columns(
    client: SnmpClient,
    endpoint: SnmpEndpoint,
    columns: Sequence[Oid],
    *,
    scalars: Sequence[Oid] = (),
    max_varbinds_per_pdu: int = DEFAULT_MAX_VARBINDS_PER_PDU,
    max_rows: int = DEFAULT_MAX_ROWS,
    expected_rows: int | None = None,
) -> WalkResult:
    """Walk ``columns`` in parallel with GETBULK; ``scalars`` ride along as non-repeaters of the first PDU.

    ``scalars`` are GETNEXT-style prefixes (e.g. sysUpTime ``1.3.6.1.2.1.1.3`` answers ``...1.3.0``).
    ``expected_rows`` (what a discovery found) only sizes the last PDU: near the end a GETBULK asks for the rows
    left plus one, which shows each column's end, instead of a PDU full of the next columns' rows. A table that
    grew is still walked to its end.
    Raises BadAnswer when an agent returns non-increasing OIDs or more than ``max_rows`` rows per column.
    """
    results: dict[Oid, dict[Oid, VarBind]] = {col: {} for col in columns}
    cursor: dict[Oid, Oid] = {col: col for col in columns}
    active = list(columns)
    scalar_answers: tuple[VarBind, ...] = ()
    pending_scalars = list(scalars)
    # Each useful PDU advances at least one column by one row, so this bounds the walk even against liars.
    max_requests = max_rows * max(1, len(columns)) + 2
    requests = 0
    while (active or pending_scalars) and requests < max_requests:
        repetitions = max(1, max_varbinds_per_pdu // max(1, len(active)))
        if expected_rows is not None and active:
            left = expected_rows - min(len(results[col]) for col in active)
            if left >= 0:
                repetitions = min(repetitions, left + 1)
        request = pending_scalars + [cursor[col] for col in active]
        answer = await client.get_bulk(
            endpoint, request, non_repeaters=len(pending_scalars), max_repetitions=repetitions if active else 0
        )
        requests += 1
        if pending_scalars:
            scalar_answers = tuple(answer[: len(pending_scalars)])
            answer = answer[len(pending_scalars) :]
            pending_scalars = []
            if not active:
                break
        if not answer:
            raise BadAnswer(f"{endpoint.device}: empty GETBULK answer while walking {oid_str(active[0])}")
        width = len(active)
        still_active = []
        for k, col in enumerate(active):
            # The answer is row after row of one varbind per column: column k's are answer[k::width].
            n = len(col)
            last = cursor[col]
            rows = results[col]
            for vb in answer[k::width]:
                name = vb.oid
                if name[:n] != col or len(name) == n or vb.type in EXCEPTION_TYPES:  # left the column
                    break
                if name <= last:
                    raise BadAnswer(
                        f"{endpoint.device}: non-increasing OID in walk of {oid_str(col)}: "
                        f"{oid_str(name)} after {oid_str(last)}"
                    )
                rows[name[n:]] = vb
                last = name
            else:
                still_active.append(col)
            cursor[col] = last
            if len(rows) > max_rows:
                raise BadAnswer(f"{endpoint.device}: table {oid_str(col)} has more than {max_rows} rows (limit)")
        active = still_active
    if active:
        raise BadAnswer(f"{endpoint.device}: walk did not finish within {max_requests} requests")
    return WalkResult(scalar_answers, results, requests)


async def get_many(
    client: SnmpClient, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, max_varbinds_per_pdu: int = 60
) -> list[VarBind]:
    """GET any number of OIDs, split into PDUs of bounded size; the answer keeps the request order."""
    out: list[VarBind] = []
    for start in range(0, len(oids), max_varbinds_per_pdu):
        chunk = oids[start : start + max_varbinds_per_pdu]
        answer = await client.get(endpoint, chunk)
        if len(answer) != len(chunk):
            raise BadAnswer(f"{endpoint.device}: GET of {len(chunk)} OIDs answered with {len(answer)} varbinds")
        out.extend(answer)
    return out
