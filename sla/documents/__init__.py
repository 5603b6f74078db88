"""The monthly SLA report as documents: pure functions from a :class:`sla.report.ContractReport` (and an optional
daily series) to text or bytes; no database, no network, no clock."""
