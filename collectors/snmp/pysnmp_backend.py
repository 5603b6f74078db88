"""pysnmp 7 adapter behind the :class:`~collectors.snmp.client.SnmpClient` seam.

One :class:`PysnmpClient` owns ONE ``SnmpEngine`` (75-90 ms and ~0.8 MB each: never one per device) and caches a
transport target and auth object per endpoint. MIB lookups are switched off (``lookupMib=False``): we speak
numeric OIDs and convert answers to plain Python values at this boundary, which is also where every pysnmp error
is wrapped into :mod:`collectors.errors`.

SNMPv3 engine discovery and time synchronisation are pysnmp's USM: after an agent reboot its snmpEngineBoots grows,
the agent answers with a notInTimeWindow report, and pysnmp re-learns boots/time and resends (tested against a
restarted snmpd in ``tests/collectors/snmp/test_snmpd.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pyasn1.type import univ  # type: ignore[import-untyped]  # no stubs published; pysnmp's own base types
from pysnmp.entity.rfc3413 import cmdgen as rfc3413_cmdgen
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio import auth as pysnmp_auth
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.rfc1902 import ObjectName

from collectors.errors import BadAnswer, CollectorError, CredentialsRejected, DeviceUnreachable
from collectors.model import SnmpCredentials
from collectors.snmp.client import Oid, SnmpEndpoint, SnmpType, VarBind, check_credentials

_AUTH = {
    "MD5": pysnmp_auth.USM_AUTH_HMAC96_MD5,
    "SHA": pysnmp_auth.USM_AUTH_HMAC96_SHA,
    "SHA-224": pysnmp_auth.USM_AUTH_HMAC128_SHA224,
    "SHA-256": pysnmp_auth.USM_AUTH_HMAC192_SHA256,
    "SHA-384": pysnmp_auth.USM_AUTH_HMAC256_SHA384,
    "SHA-512": pysnmp_auth.USM_AUTH_HMAC384_SHA512,
}
# net-snmp's AES-192/256 use the Blumenthal key extension; pysnmp's plain CFB192/256 are Reeder's (Cisco, "-C").
_PRIV = {
    "DES": pysnmp_auth.USM_PRIV_CBC56_DES,
    "AES": pysnmp_auth.USM_PRIV_CFB128_AES,
    "AES-192": pysnmp_auth.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "AES-256": pysnmp_auth.USM_PRIV_CFB256_AES_BLUMENTHAL,
    "AES-192-C": pysnmp_auth.USM_PRIV_CFB192_AES,
    "AES-256-C": pysnmp_auth.USM_PRIV_CFB256_AES,
}

# Exact classes (not isinstance chains): Counter32 etc. subclass Integer in pyasn1, so order would matter.
_TYPES: dict[type[Any], SnmpType] = {
    rfc1902.Integer32: SnmpType.INTEGER,
    rfc1902.Integer: SnmpType.INTEGER,
    rfc1902.OctetString: SnmpType.OCTET_STRING,
    rfc1902.Bits: SnmpType.OCTET_STRING,
    rfc1902.ObjectIdentifier: SnmpType.OBJECT_IDENTIFIER,
    rfc1902.IpAddress: SnmpType.IP_ADDRESS,
    rfc1902.Counter32: SnmpType.COUNTER32,
    rfc1902.Gauge32: SnmpType.GAUGE32,
    rfc1902.Unsigned32: SnmpType.GAUGE32,
    rfc1902.TimeTicks: SnmpType.TIMETICKS,
    rfc1902.Opaque: SnmpType.OPAQUE,
    rfc1902.Counter64: SnmpType.COUNTER64,
    rfc1902.Null: SnmpType.NULL,
    univ.Null: SnmpType.NULL,
    univ.Integer: SnmpType.INTEGER,
    univ.OctetString: SnmpType.OCTET_STRING,
    univ.ObjectIdentifier: SnmpType.OBJECT_IDENTIFIER,
    rfc1905.NoSuchObject: SnmpType.NO_SUCH_OBJECT,
    rfc1905.NoSuchInstance: SnmpType.NO_SUCH_INSTANCE,
    rfc1905.EndOfMibView: SnmpType.END_OF_MIB_VIEW,
}
_INT_TYPES = frozenset({SnmpType.INTEGER, SnmpType.COUNTER32, SnmpType.GAUGE32, SnmpType.TIMETICKS, SnmpType.COUNTER64})
_BYTES_TYPES = frozenset({SnmpType.OCTET_STRING, SnmpType.IP_ADDRESS, SnmpType.OPAQUE})

_CREDENTIAL_ERRORS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.DecryptionError,
    errind.UnsupportedSecurityLevel,
    errind.UnknownSecurityName,
    errind.AuthenticationFailure,
)


def _to_varbind(name: Any, value: Any) -> VarBind:
    kind = _TYPES.get(type(value))
    if kind is None:
        for cls, mapped in _TYPES.items():  # subclasses (e.g. MIB textual conventions) if a MIB ever resolves
            if isinstance(value, cls):
                kind = mapped
                break
        else:
            raise BadAnswer(f"unsupported SNMP value type {type(value).__name__} at {name}")
    converted: int | bytes | Oid | None
    if kind in _INT_TYPES:
        converted = int(value)
    elif kind in _BYTES_TYPES:
        converted = bytes(value.asOctets())
    elif kind is SnmpType.OBJECT_IDENTIFIER:
        converted = tuple(value)
    else:
        converted = None
    return VarBind(tuple(name), kind, converted)


_NULL = rfc1902.Null("")


def _request_varbinds(oids: Sequence[Oid]) -> list[Any]:
    # Raw (name, NULL) pairs straight to the RFC 3413 command generators: the hlapi wrappers resolve every request
    # OID through the MIB view (``resolve_with_mib``), which cost ~15 % of a walk's CPU for nothing here.
    return [(ObjectName(o), _NULL) for o in oids]


class PysnmpClient:
    """:class:`~collectors.snmp.client.SnmpClient` on ``pysnmp.hlapi.v3arch.asyncio`` with one shared engine.

    Create it inside the running event loop that will use it; call :meth:`close` when done.
    """

    def __init__(self, engine: Any | None = None) -> None:
        self._engine = engine if engine is not None else SnmpEngine()
        self._auth: dict[tuple[str, SnmpCredentials], Any] = {}
        self._transports: dict[tuple[str, int, float, int], Any] = {}
        self._targets: dict[tuple[int, int], str] = {}
        self._get_generator = rfc3413_cmdgen.GetCommandGenerator()
        self._bulk_generator = rfc3413_cmdgen.BulkCommandGenerator()

    @property
    def engine(self) -> Any:
        return self._engine

    def close(self) -> None:
        self._engine.close_dispatcher()

    def _auth_data(self, endpoint: SnmpEndpoint) -> Any:
        key = (endpoint.device, endpoint.credentials)
        cached = self._auth.get(key)
        if cached is not None:
            return cached
        creds = endpoint.credentials
        check_credentials(endpoint.device, creds)
        data: Any
        if creds.version == "2c":
            data = CommunityData(creds.community, mpModel=1)  # noqa: S508 - v2c is a supported profile
        else:
            data = UsmUserData(
                creds.user,
                authKey=creds.auth_key or None,
                privKey=creds.priv_key or None,
                authProtocol=_AUTH[creds.auth_protocol] if creds.auth_protocol else pysnmp_auth.USM_AUTH_NONE,
                privProtocol=_PRIV[creds.priv_protocol] if creds.priv_protocol else pysnmp_auth.USM_PRIV_NONE,
            )
        self._auth[key] = data
        return data

    async def _transport(self, endpoint: SnmpEndpoint) -> Any:
        key = (endpoint.address, endpoint.port, endpoint.timeout_s, endpoint.retries)
        cached = self._transports.get(key)
        if cached is None:
            try:
                cached = await UdpTransportTarget.create(
                    (endpoint.address, endpoint.port), timeout=endpoint.timeout_s, retries=endpoint.retries
                )
            except Exception as exc:  # pysnmp raises its own error types for resolution failures
                raise DeviceUnreachable(f"{endpoint.device}: cannot resolve {endpoint.address}: {exc}") from exc
            self._transports[key] = cached
        return cached

    def _forget_peer_engine(self, endpoint: SnmpEndpoint) -> None:
        """Drop pysnmp's cached snmpEngineID of this peer (kept 300 s by its v3 message processing model).

        A reboot that keeps the engineID is handled by pysnmp itself (notInTimeWindow → re-sync, resend). An agent
        that comes back with a NEW engineID (no persistent storage, replaced hardware) would otherwise time out
        until that cache expires; after a timeout we forget it so the next request rediscovers. pysnmp offers no
        public call for this, hence the name-mangled attribute, guarded so a pysnmp change degrades to a no-op.
        """
        model = getattr(self._engine, "message_processing_subsystems", {}).get(3)
        cache = getattr(model, "_SnmpV3MessageProcessingModel__engineIdCache", None)
        if not isinstance(cache, dict):
            return
        for key in [k for k in cache if tuple(k[1])[:2] == (endpoint.address, endpoint.port)]:
            cache.pop(key, None)

    def _result(self, endpoint: SnmpEndpoint, answer: Any) -> list[VarBind]:
        error_indication, error_status, error_index, var_binds = answer
        if error_indication:
            message = f"{endpoint.device} ({endpoint.address}:{endpoint.port}): {error_indication}"
            if isinstance(error_indication, errind.RequestTimedOut):
                if endpoint.credentials.version == "3":
                    self._forget_peer_engine(endpoint)
                raise DeviceUnreachable(message)
            if isinstance(error_indication, _CREDENTIAL_ERRORS):
                raise CredentialsRejected(message)
            raise BadAnswer(message)
        if int(error_status):
            status = error_status.prettyPrint() if hasattr(error_status, "prettyPrint") else str(error_status)
            raise BadAnswer(f"{endpoint.device}: agent error-status {status} at varbind {int(error_index)}")
        return [_to_varbind(name, value) for name, value in var_binds]

    async def _target_name(self, endpoint: SnmpEndpoint) -> str:
        auth = self._auth_data(endpoint)
        transport = await self._transport(endpoint)
        key = (id(auth), id(transport))
        name = self._targets.get(key)
        if name is None:
            # The hlapi's own LCD registers auth + transport on the engine once and names the target.
            name, _ = LCD.configure(self._engine, auth, transport, b"")
            self._targets[key] = name
        return name

    async def _request(self, endpoint: SnmpEndpoint, send: Any, *args: Any) -> list[VarBind]:
        target = await self._target_name(endpoint)
        future: asyncio.Future[tuple[Any, Any, Any, Any]] = asyncio.get_running_loop().create_future()

        def done(engine: Any, handle: Any, indication: Any, status: Any, index: Any, var_binds: Any, ctx: Any) -> None:
            # Late answers after a cancellation (our timeout) land here and are dropped.
            if not future.done():
                future.set_result((indication, status, index, var_binds))

        try:
            send(self._engine, target, None, b"", *args, done)
            answer = await future
        except CollectorError:
            raise
        except Exception as exc:  # pyasn1/pysnmp encoding errors surface as assorted exception types
            raise BadAnswer(f"{endpoint.device}: SNMP request failed: {exc!r}") from exc
        return self._result(endpoint, answer)

    async def get(self, endpoint: SnmpEndpoint, oids: Sequence[Oid]) -> list[VarBind]:
        return await self._request(endpoint, self._get_generator.send_varbinds, _request_varbinds(oids))

    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        return await self._request(
            endpoint,
            self._bulk_generator.send_varbinds,
            non_repeaters,
            max_repetitions,
            _request_varbinds(oids),
        )
