"""The collectors the poll stage runs, built from the poller settings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from collectors.snmp.client import Oid, SnmpClient, SnmpEndpoint, VarBind
from collectors.snmp.fast_backend import NativeClient
from collectors.snmp.poll import SnmpCollector
from noc.settings import PollerSettings

if TYPE_CHECKING:
    from collectors.snmp.pysnmp_backend import PysnmpClient


class Reference:
    """The pysnmp backend, imported and built at its first request: about 35 MiB a process without a weak-crypto
    profile never needs (the native codec polls every allowed SHA-2/AES profile itself)."""

    def __init__(self) -> None:
        self._client: PysnmpClient | None = None

    @property
    def built(self) -> bool:
        return self._client is not None

    def _built(self) -> PysnmpClient:
        if self._client is None:
            from collectors.snmp.pysnmp_backend import PysnmpClient

            self._client = PysnmpClient()
        return self._client

    async def get(self, endpoint: SnmpEndpoint, oids: Sequence[Oid]) -> list[VarBind]:
        return await self._built().get(endpoint, oids)

    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        return await self._built().get_bulk(
            endpoint, oids, non_repeaters=non_repeaters, max_repetitions=max_repetitions
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@contextmanager
def snmp_client(settings: PollerSettings) -> Iterator[SnmpClient]:
    """The configured SNMP backend, closed (sockets, engine) on the way out.

    pysnmp is the reference backend, and under the native one the path for weak-crypto profiles an operator
    explicitly allowed; it is loaded only when a request needs it.
    """
    reference = Reference()
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
