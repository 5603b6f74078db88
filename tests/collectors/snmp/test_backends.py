"""The lean v2c codec/client against pysnmp: same answers from the same agents; hostile bytes only BadAnswer."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.errors import BadAnswer, DeviceUnreachable
from collectors.model import SnmpCredentials
from collectors.snmp import ber
from collectors.snmp.client import SnmpEndpoint, SnmpType, VarBind
from collectors.snmp.discovery import discover
from collectors.snmp.fast_backend import FastV2cClient
from collectors.snmp.pysnmp_backend import PysnmpClient
from tests.collectors.snmp.conftest import RECORDING_NAMES, Router, snmpsim_target
from tests.peers.snmpd import free_udp_port
from tests.peers.snmpsim import SnmpsimAgent

oids = st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=20).map(lambda rest: (1, 3, *rest))


@settings(max_examples=300, deadline=None)
@given(value=oids)
def test_oid_round_trip(value: tuple[int, ...]) -> None:
    encoded = ber.encode_oid(value)
    _, start, stop = ber._header(encoded, 0, len(encoded))
    assert ber.decode_oid(encoded[start:stop]) == value


@settings(max_examples=300, deadline=None)
@given(value=st.integers(min_value=-(2**63), max_value=2**63))
def test_integer_round_trip(value: int) -> None:
    encoded = ber.encode_integer(value)
    _, start, stop = ber._header(encoded, 0, len(encoded))
    assert ber._signed(encoded, start, stop) == value


def _response(varbinds: bytes, community: bytes = b"public", request_id: int = 7) -> bytes:
    pdu = ber._tlv(
        ber.PDU_RESPONSE,
        ber.encode_integer(request_id) + ber.encode_integer(0) + ber.encode_integer(0) + ber._tlv(0x30, varbinds),
    )
    return ber._tlv(0x30, ber.encode_integer(1) + ber._tlv(0x04, community) + pdu)


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
    body = b"".join(ber._tlv(0x30, name + raw) for raw, _, _ in values)
    request_id, community, status, index, varbinds = ber.decode_response(_response(body))
    assert (request_id, community, status, index) == (7, b"public", 0, 0)
    assert [(vb.type, vb.value) for vb in varbinds] == [(kind, value) for _, kind, value in values]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x30\x80\x00\x00", id="indefinite-length"),
        pytest.param(b"\x30\x84\xff\xff\xff\xff", id="length-past-end"),
        pytest.param(_response(b"")[:-3], id="truncated"),
        pytest.param(_response(ber._tlv(0x30, ber.encode_oid((1, 3)) + b"\x99\x00")), id="unknown-tag"),
        pytest.param(_response(ber._tlv(0x30, ber.encode_oid((1, 3)) + b"\x41\x05\x01\x00\x00\x00\x00")), id="c32-big"),
        pytest.param(_response(ber._tlv(0x30, b"\x06\x02\x2b\x86" + b"\x05\x00")), id="truncated-oid"),
    ],
)
def test_hostile_bytes_are_bad_answers(raw: bytes) -> None:
    with pytest.raises(BadAnswer):
        ber.decode_response(raw)


@settings(max_examples=500, deadline=None)
@given(raw=st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_bad_answer(raw: bytes) -> None:
    with contextlib.suppress(BadAnswer):
        ber.decode_response(raw)


async def test_unanswered_request_is_device_unreachable() -> None:
    client = FastV2cClient()
    try:
        endpoint = SnmpEndpoint(
            "silent", "127.0.0.1", free_udp_port(), SnmpCredentials("2c", community="c"), timeout_s=0.1, retries=1
        )
        with pytest.raises(DeviceUnreachable, match="silent"):
            await client.get(endpoint, [(1, 3, 6, 1, 2, 1, 1, 3, 0)])
    finally:
        client.close()


def _comparable(varbinds: list[VarBind]) -> list[tuple[object, ...]]:
    return [(vb.oid, vb.type, vb.value) for vb in varbinds]


@pytest.mark.peers
@pytest.mark.parametrize("name", RECORDING_NAMES)
async def test_fast_client_discovers_like_pysnmp(snmpsim: SnmpsimAgent, client: PysnmpClient, name: str) -> None:
    endpoint = SnmpEndpoint.from_target(snmpsim_target(snmpsim, name), timeout_s=3.0, retries=1)
    fast = FastV2cClient()
    try:
        ours = await discover(fast, endpoint)
    finally:
        fast.close()
    reference = await discover(client, endpoint)
    assert ours.interfaces == reference.interfaces
    assert ours.system == reference.system


@pytest.mark.peers
async def test_fast_client_answers_like_pysnmp_on_snmpd(router: Router, client: PysnmpClient) -> None:
    endpoint = SnmpEndpoint.from_target(router.target(), timeout_s=1.0, retries=1)
    request = [(1, 3, 6, 1, 2, 1, 2, 2, 1, 2), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), (1, 3, 6, 1, 2, 1, 2, 2, 1, 6)]
    fast = FastV2cClient()
    try:
        ours = await fast.get_bulk(endpoint, request, non_repeaters=0, max_repetitions=3)
    finally:
        fast.close()
    reference = await client.get_bulk(endpoint, request, non_repeaters=0, max_repetitions=3)
    # Octet counters of a live link can move between the two requests; names, types and the rest must agree.
    assert [(vb.oid, vb.type) for vb in ours] == [(vb.oid, vb.type) for vb in reference]
    assert [vb.value for vb in ours if vb.type is not SnmpType.COUNTER64] == [
        vb.value for vb in reference if vb.type is not SnmpType.COUNTER64
    ]
    assert _comparable(ours)
