"""Device I/O: SNMP and SSH clients, per-MIB / per-platform readers, parsers, counter math, the scheduler.

A collector returns immutable samples; it never writes to the database or to metrics.
"""
