"""The collectors the poll stage runs, built from the poller settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from collectors.snmp.client import SnmpClient
from collectors.snmp.fast_backend import FastV2cClient, HybridClient
from collectors.snmp.poll import SnmpCollector
from collectors.snmp.pysnmp_backend import PysnmpClient
from noc.settings import PollerSettings


@contextmanager
def snmp_client(settings: PollerSettings) -> Iterator[SnmpClient]:
    """The configured SNMP backend, closed (sockets, engine) on the way out."""
    v3 = PysnmpClient()
    fast = FastV2cClient() if settings.snmp_backend == "hybrid" else None
    try:
        yield v3 if fast is None else HybridClient(fast, v3)
    finally:
        v3.close()
        if fast is not None:
            fast.close()


def snmp_collector(client: SnmpClient, settings: PollerSettings) -> SnmpCollector:
    return SnmpCollector(
        client,
        timeout_s=settings.timeout_s,
        retries=settings.retries,
        rediscover_after_s=settings.discovery_interval_s,
    )
