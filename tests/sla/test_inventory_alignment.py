"""The engine reads what the inventory stores: every contract of examples/inventory.yaml, validated by the
inventory schema and put into a ``noc.models.Contract`` the way the inventory sync does, becomes SlaTerms."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from noc import models as m
from noc.inventory.schema import ContractIn
from sla.report import CircuitMonthInput, monthly_report
from sla.terms import OneOffWindow, RecurringWindow, terms_from_contract

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "inventory.yaml"
CONTRACTS: list[dict[str, Any]] = yaml.safe_load(EXAMPLE.read_text())["contracts"]


def stored(entry: ContractIn) -> m.Contract:
    # The same column mapping as noc.inventory.sync (JSON columns from model_dump(mode="json")).
    return m.Contract(
        name=entry.name,
        timezone=entry.timezone,
        month_length=entry.month_length,
        monthly_fee=entry.monthly_fee,
        currency=entry.currency,
        availability_target_pct=entry.sla.availability_target_pct,
        latency_ceiling_ms=entry.sla.latency_ceiling_ms,
        loss_ceiling_pct=entry.sla.loss_ceiling_pct,
        jitter_ceiling_ms=entry.sla.jitter_ceiling_ms,
        utilisation_ceiling_pct=entry.sla.utilisation_ceiling_pct,
        sliding_window_n=entry.sla.sliding_window_n,
        unknown_time=entry.sla.unknown_time,
        min_measured_pct=entry.sla.min_measured_pct,
        availability_places=entry.sla.availability_places,
        maintenance_windows=[w.model_dump(mode="json") for w in entry.maintenance_windows],
        credit_bands=[b.model_dump(mode="json") for b in entry.credits.bands],
        credit_cap_pct=entry.credits.cap_pct,
    )


@pytest.mark.parametrize("raw", CONTRACTS, ids=[c["name"] for c in CONTRACTS])
def test_every_example_contract_maps_to_terms(raw: dict[str, Any]) -> None:
    entry = ContractIn.model_validate(raw)
    terms = terms_from_contract(stored(entry))
    assert terms.contract == entry.name and terms.timezone == entry.timezone
    assert terms.availability_target_pct == entry.sla.availability_target_pct
    assert terms.sliding_window_n == entry.sla.sliding_window_n
    assert (terms.min_measured_pct, terms.availability_places) == (
        entry.sla.min_measured_pct,
        entry.sla.availability_places,
    )
    assert [(b.below_pct, b.credit_pct) for b in terms.credits.bands] == [
        (b.below_pct, b.credit_pct) for b in entry.credits.bands
    ]
    assert terms.credits.cap_pct == entry.credits.cap_pct
    assert terms.credits.monthly_fee == entry.monthly_fee
    assert len(terms.maintenance) == len(entry.maintenance_windows)
    for window, source in zip(terms.maintenance, entry.maintenance_windows, strict=True):
        if isinstance(window, OneOffWindow):
            assert source.kind == "one_off" and window.start == source.start_at and window.end == source.end_at
        else:
            assert isinstance(window, RecurringWindow) and source.kind == "recurring"
            assert window.start_local.strftime("%H:%M") == source.start
            assert window.duration_min == source.duration_min
    # And a report runs on it.
    report = monthly_report(terms, 2026, 3, [CircuitMonthInput("x")])
    assert report.availability_pct == Decimal(100)
