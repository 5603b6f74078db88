"""SLA levels and their evaluation: Δt availability states, windows, maintenance, monthly compliance, credits.

A pure core: standard library only (plus ``zoneinfo``), no I/O, no clock reads (every "now" is passed in), aware
UTC datetimes everywhere; the contract timezone is used only to cut months and expand recurring maintenance.

Modules, upstream first:

* ``sla.intervals`` - the one interval algebra (union, intersection, difference, clip; exact Decimal seconds).
* ``sla.terms`` - ``SlaTerms`` and ``terms_from_contract(row)`` (a ``noc.models.Contract`` row or a dict shaped
  like one); maintenance windows expanded to UTC, DST-correct.
* ``sla.period`` - ``month_period(year, month, tz, rule)``: local-midnight boundaries, calendar / fixed minutes.
* ``sla.states`` - ``DeltaInput`` per Δt, ``classify``, the MEF 10.3 ``SlidingWindow``, ``evaluate_deltas``,
  ``StateRun`` rollups.
* ``sla.availability`` - ``compute_availability``: outages intersected exactly with maintenance / stop-clock,
  unknown time per the contract rule, the arithmetic as steps; ``aggregate_availability`` for a contract.
* ``sla.credits`` - ``compute_credit``: band, percentage, cap, Decimal money, steps.
* ``sla.report`` - ``monthly_report(terms, year, month, circuits)`` -> ``ContractReport`` for rendering.
* ``sla.breach`` - ``BreachDetector``: real-time ``Breach`` / ``Recovery`` events with hysteresis and burn rate.

Errors derive from ``sla.errors.SlaError``.
"""
