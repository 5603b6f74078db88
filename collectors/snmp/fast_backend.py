"""The native SNMP client (the default backend): SNMPv2c and SNMPv3/USM on the own codec, behind the same seam.

- v2c: :mod:`collectors.snmp.ber`; the answer must carry the request's community.
- v3: :mod:`collectors.snmp.usm` for authPriv with SHA-2 and AES. Per agent (address, port) the client keeps the
  engine ID, boots and time (:class:`~collectors.snmp.usm.EngineClock`), discovered on first use (RFC 3414 §4).
  A Report-PDU steers it: ``notInTimeWindow`` (agent rebooted: boots grew) → adopt the authenticated boots/time and
  resend; ``unknownEngineID`` (a new engine ID: replaced agent, lost persistent storage) → rediscover, localise the
  keys again and resend; at most :data:`SYNC_ATTEMPTS` rounds. Unknown user, wrong digest, decryption error and
  unsupported security level are :class:`~collectors.errors.CredentialsRejected` naming the device and the user,
  never a key.
- Weak profiles (MD5, SHA-1, DES, noAuth/noPriv), accepted only with ``allow_weak_crypto``, go to the ``weak``
  client (the pysnmp backend) when one is given.

Sockets, request ids and in-flight limits are :class:`~collectors.snmp.transport.UdpEngine`'s.
(The module keeps its first name, from when it spoke v2c only; ``FastV2cClient`` is that name's alias.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Final

from collectors.errors import BadAnswer, CollectorError, CredentialsRejected, DeviceUnreachable, WeakCryptoRefused
from collectors.snmp import ber, usm
from collectors.snmp.client import Oid, SnmpClient, SnmpEndpoint, VarBind, check_credentials, oid_str
from collectors.snmp.transport import UdpEngine

_ERROR_STATUS = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr"}
SYNC_ATTEMPTS: Final = 3
# Reports an agent sends without authentication (RFC 3414 §3.2 steps 3-8): they can be believed only as errors.
_UNAUTHENTICATED_REPORTS: Final = frozenset(
    {
        usm.ReportKind.UNKNOWN_ENGINE_ID,
        usm.ReportKind.UNKNOWN_USER,
        usm.ReportKind.WRONG_DIGEST,
        usm.ReportKind.DECRYPTION_ERROR,
        usm.ReportKind.UNSUPPORTED_SECURITY_LEVEL,
    }
)

Peer = tuple[str, int]


def _native_v3(endpoint: SnmpEndpoint) -> bool:
    creds = endpoint.credentials
    return (
        creds.auth_protocol in usm.AUTH_PROTOCOLS
        and creds.priv_protocol in usm.PRIV_PROTOCOLS
        and bool(creds.auth_key)
        and bool(creds.priv_key)
    )


class NativeClient:
    """:class:`~collectors.snmp.client.SnmpClient` on the own codec. Call :meth:`close` when done."""

    def __init__(self, weak: SnmpClient | None = None, engine: UdpEngine | None = None) -> None:
        self._udp = engine if engine is not None else UdpEngine()
        self._weak = weak
        self._clocks: dict[Peer, usm.EngineClock] = {}
        self._discovery_locks: dict[Peer, asyncio.Lock] = {}
        self._salts = itertools.count(secrets.randbits(64))  # RFC 3826 §3.1.2.1: any start, then +1 a message

    @property
    def engine(self) -> UdpEngine:
        return self._udp

    def close(self) -> None:
        self._udp.close()

    def _delegate(self, endpoint: SnmpEndpoint) -> SnmpClient | None:
        check_credentials(endpoint.device, endpoint.credentials)
        if endpoint.credentials.version == "2c" or _native_v3(endpoint):
            return None
        if self._weak is None:
            raise WeakCryptoRefused(
                f"{endpoint.device}: this SNMPv3 profile (allowed weak crypto) needs the pysnmp backend, "
                "which this client was not given"
            )
        return self._weak

    async def get(self, endpoint: SnmpEndpoint, oids: Sequence[Oid]) -> list[VarBind]:
        weak = self._delegate(endpoint)
        if weak is not None:
            return await weak.get(endpoint, oids)
        answer = await self._request(endpoint, ber.PDU_GET, oids, 0, 0)
        if len(answer) != len(oids):
            raise BadAnswer(f"{endpoint.device}: GET of {len(oids)} OIDs answered with {len(answer)} varbinds")
        return answer

    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        weak = self._delegate(endpoint)
        if weak is not None:
            return await weak.get_bulk(endpoint, oids, non_repeaters=non_repeaters, max_repetitions=max_repetitions)
        return await self._request(endpoint, ber.PDU_GETBULK, oids, non_repeaters, max_repetitions)

    async def _request(self, endpoint: SnmpEndpoint, tag: int, oids: Sequence[Oid], f2: int, f3: int) -> list[VarBind]:
        request = list(oids)

        def pdu(request_id: int) -> bytes:
            try:
                return ber.encode_pdu(tag, request_id, request, f2, f3)
            except ValueError as exc:
                raise CollectorError(f"{endpoint.device}: {exc}") from exc

        if endpoint.credentials.version == "2c":
            answer = await self._v2c(endpoint, pdu)
        else:
            answer = await self._v3(endpoint, pdu)
        if answer.error_status:
            name = _ERROR_STATUS.get(answer.error_status, str(answer.error_status))
            raise BadAnswer(f"{endpoint.device}: agent error-status {name} at varbind {answer.error_index}")
        return answer.varbinds

    # ------------------------------------------------------------ v2c

    async def _v2c(self, endpoint: SnmpEndpoint, pdu: Callable[[int], bytes]) -> ber.Pdu:
        community = (endpoint.credentials.community or "").encode()

        def build(request_id: int) -> bytes:
            return ber.encode_v2c(community, pdu(request_id))

        def accept(data: bytes) -> ber.Pdu:
            answer_community, answer = ber.decode_response(data)
            if answer_community != community:
                raise BadAnswer("answer carries another community")
            return answer

        return await self._udp.exchange(
            endpoint.device,
            (endpoint.address, endpoint.port),
            ber.SNMP_V2C,
            build,
            accept,
            timeout_s=endpoint.timeout_s,
            retries=endpoint.retries,
        )

    # ------------------------------------------------------------ v3

    async def _clock(self, endpoint: SnmpEndpoint) -> usm.EngineClock:
        peer = (endpoint.address, endpoint.port)
        lock = self._discovery_locks.setdefault(peer, asyncio.Lock())
        async with lock:  # one discovery per agent, however many requests wait for it
            clock = self._clocks.get(peer)
            if clock is None:
                clock = await self._discover(endpoint)
                self._clocks[peer] = clock
            return clock

    async def _discover(self, endpoint: SnmpEndpoint) -> usm.EngineClock:
        def accept(data: bytes) -> usm.EngineClock:
            envelope = usm.decode_envelope(data)
            report = usm.scoped_pdu(data, envelope, None)
            if usm.report_kind(report) is not usm.ReportKind.UNKNOWN_ENGINE_ID or not envelope.engine_id:
                raise BadAnswer("engine discovery answered without an engine ID report")
            return usm.EngineClock(envelope.engine_id, envelope.boots, envelope.time, time.monotonic())

        return await self._udp.exchange(
            endpoint.device,
            (endpoint.address, endpoint.port),
            ber.SNMP_V3,
            lambda msg_id: usm.encode_discovery(msg_id, msg_id),
            accept,
            timeout_s=endpoint.timeout_s,
            retries=endpoint.retries,
        )

    async def _explain_silence(self, endpoint: SnmpEndpoint) -> None:
        """After an unanswered authPriv request: if the engine still answers discovery, the agent is there and
        dropped our request, which net-snmp does, without a report, when it cannot decrypt it."""
        try:
            await self._discover(dataclasses.replace(endpoint, retries=0))
        except DeviceUnreachable:
            return
        raise CredentialsRejected(
            f"{endpoint.device} ({endpoint.address}:{endpoint.port}): the agent answers SNMPv3 engine discovery but "
            f"not authPriv requests of user {endpoint.credentials.user!r}: privacy key or protocol probably wrong"
        )

    async def _v3(self, endpoint: SnmpEndpoint, pdu: Callable[[int], bytes]) -> ber.Pdu:
        creds = endpoint.credentials
        assert creds.auth_protocol and creds.priv_protocol and creds.auth_key and creds.priv_key and creds.user
        user = creds.user.encode()
        peer = (endpoint.address, endpoint.port)
        for _ in range(SYNC_ATTEMPTS):
            clock = await self._clock(endpoint)
            keys = usm.localized_keys(
                creds.auth_protocol, creds.auth_key, creds.priv_protocol, creds.priv_key, clock.engine_id
            )

            def build(msg_id: int, clock: usm.EngineClock = clock, keys: usm.UsmKeys = keys) -> bytes:
                return usm.encode_request(
                    msg_id=msg_id,
                    clock=clock,
                    now=time.monotonic(),
                    user=user,
                    keys=keys,
                    salt=next(self._salts) % 2**64,
                    pdu=pdu(msg_id),
                )

            def accept(
                data: bytes, clock: usm.EngineClock = clock, keys: usm.UsmKeys = keys
            ) -> tuple[usm.Envelope, ber.Pdu]:
                return _accept_v3(data, clock, keys, user)

            try:
                envelope, answer = await self._udp.exchange(
                    endpoint.device,
                    peer,
                    ber.SNMP_V3,
                    build,
                    accept,
                    timeout_s=endpoint.timeout_s,
                    retries=endpoint.retries,
                )
            except DeviceUnreachable:
                await self._explain_silence(endpoint)
                raise
            now = time.monotonic()
            if answer.tag == ber.PDU_RESPONSE:
                self._clocks[peer] = self._clocks.get(peer, clock).advanced(envelope.boots, envelope.time, now)
                return answer
            kind = usm.report_kind(answer)
            if kind is usm.ReportKind.NOT_IN_TIME_WINDOW:
                self._clocks[peer] = usm.EngineClock(clock.engine_id, envelope.boots, envelope.time, now)
                continue
            if kind is usm.ReportKind.UNKNOWN_ENGINE_ID:
                self._clocks.pop(peer, None)
                continue
            where = f"{endpoint.device} ({endpoint.address}:{endpoint.port})"
            if kind is None:
                first = answer.varbinds[0].oid if answer.varbinds else ()
                raise BadAnswer(f"{where}: agent sent a Report-PDU for {oid_str(first)}")
            raise CredentialsRejected(f"{where}: {kind.value} (SNMPv3 user {creds.user!r})")
        raise BadAnswer(
            f"{endpoint.device}: SNMPv3 engine boots/time or ID still not in sync after {SYNC_ATTEMPTS} attempts"
        )


def _accept_v3(data: bytes, clock: usm.EngineClock, keys: usm.UsmKeys, user: bytes) -> tuple[usm.Envelope, ber.Pdu]:
    """Check an SNMPv3 answer to one of our requests (RFC 3414 §3.2) and open it; BadAnswer if unusable."""
    envelope = usm.decode_envelope(data)
    if not envelope.flags & usm.FLAG_AUTH:
        report = usm.scoped_pdu(data, envelope, None)
        if usm.report_kind(report) not in _UNAUTHENTICATED_REPORTS:
            raise BadAnswer("unauthenticated answer to an authPriv request")
        return envelope, report
    if envelope.engine_id != clock.engine_id or envelope.user != user:
        raise BadAnswer("answer from another engine ID or for another user")
    if not usm.authentic(data, envelope, keys):
        raise BadAnswer("answer's authentication digest does not match (corrupted, or not from this agent)")
    answer = usm.scoped_pdu(data, envelope, keys)
    if answer.tag == ber.PDU_RESPONSE:
        if not envelope.encrypted:
            raise BadAnswer("answer not encrypted though the request was authPriv")
        if not clock.in_window(envelope.boots, envelope.time, time.monotonic()):
            raise BadAnswer("answer outside the SNMPv3 time window (stale or replayed)")
    return envelope, answer


# The first name of this client, still used by noc.demo's lab readiness check.
FastV2cClient = NativeClient
