"""Prometheus collectors over an in-memory snapshot, alerting rules, the Alertmanager webhook mapping."""
