"""The collectors the poll stage runs, built from the poller settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from collectors.snmp.client import SnmpClient
from collectors.snmp.fast_backend import NativeClient
from collectors.snmp.poll import SnmpCollector
from collectors.snmp.pysnmp_backend import PysnmpClient
from noc.settings import PollerSettings


@contextmanager
def snmp_client(settings: PollerSettings) -> Iterator[SnmpClient]:
    """The configured SNMP backend, closed (sockets, engine) on the way out.

    pysnmp is created either way: it is the reference backend, and under the native one the path for weak-crypto
    profiles an operator explicitly allowed.
    """
    reference = PysnmpClient()
    native = NativeClient(weak=reference) if settings.snmp_backend == "native" else None
    try:
        yield reference if native is None else native
    finally:
        reference.close()
        if native is not None:
            native.close()


def snmp_collector(client: SnmpClient, settings: PollerSettings) -> SnmpCollector:
    return SnmpCollector(
        client,
        timeout_s=settings.timeout_s,
        retries=settings.retries,
        rediscover_after_s=settings.discovery_interval_s,
    )
