"""An SNMPv2c client on the lean codec in :mod:`collectors.snmp.ber`, behind the same seam as pysnmp.

Status: a measured alternative, NOT the default (DESIGN: "measure the alternative and propose it"). It speaks v2c
only; :class:`HybridClient` sends v2c through it and everything else (SNMPv3) through pysnmp. The shared test
``tests/collectors/snmp/test_backends.py`` checks it against pysnmp on the same agents.

One UDP socket per client (one per event loop), requests matched by request-id AND source address AND community,
per-PDU timeout and bounded retries. Late or unmatched datagrams are dropped.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any

from collectors.errors import BadAnswer, CollectorError, DeviceUnreachable
from collectors.snmp import ber
from collectors.snmp.client import Oid, SnmpClient, SnmpEndpoint, VarBind, check_credentials

_ERROR_STATUS = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr"}


Decoded = tuple[int, bytes, int, int, list[VarBind]]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.pending: dict[int, tuple[asyncio.Future[Decoded], tuple[str, int]]] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            decoded = ber.decode_response(data)
        except BadAnswer:
            # Can't tell whose it is: leave it; the waiting request times out and reports the device.
            return
        waiting = self.pending.get(decoded[0])
        if waiting is None or (addr[0], addr[1]) != waiting[1]:
            return
        future = waiting[0]
        if not future.done():
            future.set_result(decoded)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors on an unconnected socket carry no request: timeouts report the device instead.
        return


class FastV2cClient:
    """:class:`~collectors.snmp.client.SnmpClient` for SNMPv2c on the lean codec. Call :meth:`close` when done."""

    def __init__(self) -> None:
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol = _Protocol()
        self._ids = itertools.count(1)

    async def _socket(self) -> tuple[asyncio.DatagramTransport, _Protocol]:
        if self._transport is None:
            loop = asyncio.get_running_loop()
            # A client socket on an ephemeral port, like any SNMP manager: answers come from every device address.
            any_address = ("0.0.0.0", 0)  # noqa: S104
            transport, _ = await loop.create_datagram_endpoint(lambda: self._protocol, local_addr=any_address)
            self._transport = transport
        return self._transport, self._protocol

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def _request(self, endpoint: SnmpEndpoint, tag: int, oids: Sequence[Oid], f2: int, f3: int) -> list[VarBind]:
        check_credentials(endpoint.device, endpoint.credentials)
        community = endpoint.credentials.community
        if endpoint.credentials.version != "2c" or community is None:
            raise CollectorError(f"{endpoint.device}: FastV2cClient speaks SNMPv2c only")
        transport, protocol = await self._socket()
        request_id = next(self._ids) % 2_147_483_647 or 1
        try:
            packet = ber.encode_request(community.encode(), tag, request_id, list(oids), f2, f3)
        except ValueError as exc:
            raise CollectorError(f"{endpoint.device}: {exc}") from exc
        address = (endpoint.address, endpoint.port)
        future: asyncio.Future[Decoded] = asyncio.get_running_loop().create_future()
        protocol.pending[request_id] = (future, address)
        try:
            for _ in range(endpoint.retries + 1):
                transport.sendto(packet, address)
                try:
                    decoded = await asyncio.wait_for(asyncio.shield(future), endpoint.timeout_s)
                    break
                except TimeoutError:
                    continue
            else:
                raise DeviceUnreachable(
                    f"{endpoint.device} ({endpoint.address}:{endpoint.port}): no SNMP response within "
                    f"{endpoint.timeout_s:g} s x {endpoint.retries + 1}"
                )
        finally:
            protocol.pending.pop(request_id, None)
            if not future.done():
                future.cancel()
        _, answer_community, status, index, varbinds = decoded
        if answer_community != community.encode():
            raise BadAnswer(f"{endpoint.device}: answer carries another community")
        if status:
            name = _ERROR_STATUS.get(status, str(status))
            raise BadAnswer(f"{endpoint.device}: agent error-status {name} at varbind {index}")
        return varbinds

    async def get(self, endpoint: SnmpEndpoint, oids: Sequence[Oid]) -> list[VarBind]:
        answer = await self._request(endpoint, ber.PDU_GET, oids, 0, 0)
        if len(answer) != len(oids):
            raise BadAnswer(f"{endpoint.device}: GET of {len(oids)} OIDs answered with {len(answer)} varbinds")
        return answer

    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        return await self._request(endpoint, ber.PDU_GETBULK, oids, non_repeaters, max_repetitions)


class HybridClient:
    """v2c through :class:`FastV2cClient`, SNMPv3 through ``v3`` (e.g. ``PysnmpClient``)."""

    def __init__(self, fast: FastV2cClient, v3: SnmpClient) -> None:
        self._fast = fast
        self._v3 = v3

    def _pick(self, endpoint: SnmpEndpoint) -> SnmpClient:
        return self._fast if endpoint.credentials.version == "2c" else self._v3

    async def get(self, endpoint: SnmpEndpoint, oids: Sequence[Oid]) -> list[VarBind]:
        return await self._pick(endpoint).get(endpoint, oids)

    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        return await self._pick(endpoint).get_bulk(
            endpoint, oids, non_repeaters=non_repeaters, max_repetitions=max_repetitions
        )
