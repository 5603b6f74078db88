"""The native client against pysnmp: same answers from the same agents (every recording, snmpd, hostile agents);
the BER codec's own table-driven cases. Fuzzing of the decoders is in test_fuzz.py."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.errors import BadAnswer, CollectorError, DeviceUnreachable
from collectors.model import SnmpCredentials
from collectors.snmp import ber
from collectors.snmp.client import SnmpEndpoint, SnmpType, VarBind
from collectors.snmp.discovery import discover
from collectors.snmp.fast_backend import NativeClient
from collectors.snmp.pysnmp_backend import PysnmpClient
from tests.collectors.snmp.conftest import HOSTILE, HOSTILE_RAW, RECORDING_NAMES, Router, snmpsim_target
from tests.peers.snmpd import free_udp_port
from tests.peers.snmpsim import SnmpsimAgent

oids = st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=20).map(lambda rest: (1, 3, *rest))


@settings(max_examples=300, deadline=None)
@given(value=oids)
def test_oid_round_trip(value: tuple[int, ...]) -> None:
    encoded = ber.encode_oid(value)
    _, start, stop = ber.header(encoded, 0, len(encoded))
    assert ber.decode_oid(encoded[start:stop]) == value


@settings(max_examples=300, deadline=None)
@given(value=st.integers(min_value=-(2**63), max_value=2**63))
def test_integer_round_trip(value: int) -> None:
    encoded = ber.encode_integer(value)
    _, start, stop = ber.header(encoded, 0, len(encoded))
    assert ber.signed(encoded, start, stop) == value


def response(varbinds: bytes, community: bytes = b"public", request_id: int = 7) -> bytes:
    pdu = ber.tlv(
        ber.PDU_RESPONSE,
        ber.encode_integer(request_id) + ber.encode_integer(0) + ber.encode_integer(0) + ber.tlv(0x30, varbinds),
    )
    return ber.encode_v2c(community, pdu)


def test_decode_every_value_type() -> None:
    name = ber.encode_oid((1, 3, 6, 1, 2, 1, 1, 3, 0))
    values = [
        (b"\x43\x04\xff\xff\xff\xff", SnmpType.TIMETICKS, 2**32 - 1),
        (b"\x46\x09\x00\xff\xff\xff\xff\xff\xff\xff\xff", SnmpType.COUNTER64, 2**64 - 1),
        (b"\x02\x01\xff", SnmpType.INTEGER, -1),
        (b"\x04\x03abc", SnmpType.OCTET_STRING, b"abc"),
        (b"\x40\x04\x7f\x00\x00\x01", SnmpType.IP_ADDRESS, b"\x7f\x00\x00\x01"),
        (ber.encode_oid((1, 3, 6, 1, 4, 1, 8072)), SnmpType.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 8072)),
        (b"\x81\x00", SnmpType.NO_SUCH_INSTANCE, None),
        (b"\x82\x00", SnmpType.END_OF_MIB_VIEW, None),
    ]
    body = b"".join(ber.tlv(0x30, name + raw) for raw, _, _ in values)
    community, pdu = ber.decode_response(response(body))
    assert (pdu.request_id, community, pdu.error_status, pdu.error_index) == (7, b"public", 0, 0)
    assert [(vb.type, vb.value) for vb in pdu.varbinds] == [(kind, value) for _, kind, value in values]
    assert ber.message_key(response(body)) == (ber.SNMP_V2C, 7)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x30\x80\x00\x00", id="indefinite-length"),
        pytest.param(b"\x30\x84\xff\xff\xff\xff", id="length-past-end"),
        pytest.param(b"\x30\x85\x00\x00\x00\x00\x05", id="length-of-5-octets"),
        pytest.param(response(b"")[:-3], id="truncated"),
        pytest.param(response(ber.tlv(0x30, ber.encode_oid((1, 3)) + b"\x99\x00")), id="unknown-tag"),
        pytest.param(response(ber.tlv(0x30, ber.encode_oid((1, 3)) + b"\x41\x05\x01\x00\x00\x00\x00")), id="c32-big"),
        pytest.param(response(ber.tlv(0x30, b"\x06\x02\x2b\x86" + b"\x05\x00")), id="truncated-oid"),
        pytest.param(response(ber.tlv(0x30, ber.encode_oid((1, 3)) + b"\x02\x0a" + bytes(10))), id="integer-80-bits"),
        pytest.param(b"\x30\x03\x02\x01\x02", id="snmpv2u"),
    ],
)
def test_hostile_bytes_are_bad_answers(raw: bytes) -> None:
    with pytest.raises(BadAnswer):
        ber.decode_response(raw)


async def test_unanswered_request_is_device_unreachable(native: NativeClient) -> None:
    endpoint = SnmpEndpoint(
        "silent", "127.0.0.1", free_udp_port(), SnmpCredentials("2c", community="c"), timeout_s=0.1, retries=1
    )
    with pytest.raises(DeviceUnreachable, match="silent"):
        await native.get(endpoint, [(1, 3, 6, 1, 2, 1, 1, 3, 0)])


class _Silent(asyncio.DatagramProtocol):
    """Receives requests and never answers; ``heard`` is set at the first one."""

    def __init__(self) -> None:
        self.heard = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.heard.set()


async def test_a_waiting_request_is_cancelled_at_once_and_its_cancellation_propagates(native: NativeClient) -> None:
    loop = asyncio.get_running_loop()
    transport, silent = await loop.create_datagram_endpoint(_Silent, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        endpoint = SnmpEndpoint("slow", "127.0.0.1", port, SnmpCredentials("2c", community="c"), 30.0, 0)
        request = asyncio.create_task(native.get(endpoint, [(1, 3, 6, 1, 2, 1, 1, 3, 0)]))
        await silent.heard.wait()
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
    finally:
        transport.close()


async def test_unencodable_oid_is_a_collector_error(native: NativeClient) -> None:
    endpoint = SnmpEndpoint("d", "127.0.0.1", free_udp_port(), SnmpCredentials("2c", community="c"), 0.1, 0)
    with pytest.raises(CollectorError, match="d: not an encodable OID"):
        await native.get(endpoint, [(7, 99)])
    assert native.engine.sockets == 1


def _comparable(varbinds: list[VarBind]) -> list[tuple[object, ...]]:
    return [(vb.oid, vb.type, vb.value) for vb in varbinds]


@pytest.mark.peers
@pytest.mark.parametrize("name", RECORDING_NAMES)
async def test_native_client_discovers_like_pysnmp(
    snmpsim: SnmpsimAgent, native: NativeClient, reference: PysnmpClient, name: str
) -> None:
    endpoint = SnmpEndpoint.from_target(snmpsim_target(snmpsim, name), timeout_s=3.0, retries=1)
    ours = await discover(native, endpoint)
    theirs = await discover(reference, endpoint)
    assert ours.interfaces == theirs.interfaces
    assert ours.system == theirs.system


@pytest.mark.peers
@pytest.mark.parametrize("name", sorted({*HOSTILE, *HOSTILE_RAW}))
async def test_native_client_fails_hostile_agents_like_pysnmp(
    snmpsim: SnmpsimAgent, native: NativeClient, reference: PysnmpClient, name: str
) -> None:
    endpoint = SnmpEndpoint.from_target(snmpsim_target(snmpsim, name), timeout_s=3.0, retries=1)
    outcomes: list[tuple[object, ...]] = []
    for client in (native, reference):
        try:
            found = await discover(client, endpoint, max_rows=500)
        except CollectorError as exc:
            outcomes.append((type(exc), str(exc)))
        else:
            outcomes.append((found.system, found.interfaces))
    assert outcomes[0] == outcomes[1]


@pytest.mark.peers
async def test_native_client_answers_like_pysnmp_on_snmpd(
    router: Router, native: NativeClient, reference: PysnmpClient
) -> None:
    for credentials in (router.target().snmp, router.v3()):
        assert credentials is not None
        endpoint = SnmpEndpoint.from_target(router.target(snmp=credentials), timeout_s=1.0, retries=1)
        request = [(1, 3, 6, 1, 2, 1, 2, 2, 1, 2), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), (1, 3, 6, 1, 2, 1, 2, 2, 1, 6)]
        ours = await native.get_bulk(endpoint, request, non_repeaters=0, max_repetitions=3)
        theirs = await reference.get_bulk(endpoint, request, non_repeaters=0, max_repetitions=3)
        # Octet counters of a live link can move between the two requests; names, types and the rest must agree.
        assert [(vb.oid, vb.type) for vb in ours] == [(vb.oid, vb.type) for vb in theirs]
        assert [vb.value for vb in ours if vb.type is not SnmpType.COUNTER64] == [
            vb.value for vb in theirs if vb.type is not SnmpType.COUNTER64
        ]
        assert _comparable(ours)
