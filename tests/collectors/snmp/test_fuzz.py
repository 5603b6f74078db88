"""Hostile bytes are typed errors: the BER and USM decoders fuzzed (bounded here; the long run is
bench/fuzz_snmp_decoders.py), and a hostile agent's garbage logged once per device, not once per packet."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings

from collectors.errors import BadAnswer
from collectors.model import SnmpCredentials
from collectors.snmp import ber, usm
from collectors.snmp.client import SnmpEndpoint
from collectors.snmp.fast_backend import NativeClient
from tests.collectors.snmp import fuzzing

FUZZ = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@FUZZ
@given(data=fuzzing.hostile)
def test_hostile_datagrams_raise_only_bad_answer(data: bytes) -> None:
    fuzzing.decode_all(data)


@FUZZ
@given(data=fuzzing.v3_answers)
def test_valid_v3_answers_open(data: bytes) -> None:
    envelope = usm.decode_envelope(data)
    assert usm.authentic(data, envelope, fuzzing.KEYS)
    assert usm.scoped_pdu(data, envelope, fuzzing.KEYS).tag == ber.PDU_RESPONSE


def _deep(depth: int) -> bytes:
    inner = b""
    for _ in range(depth):
        inner = ber.tlv(ber.TAG_SEQUENCE, inner)
    return inner


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_deep(3000), id="nested-3000"),
        pytest.param(bytes(range(256)) * 256, id="64k-pattern"),
        pytest.param(b"\x30\x84\xff\xff\xff\xff" + bytes(65_000), id="claims-4GiB"),
        pytest.param(ber.tlv(0x30, ber.encode_integer(3) + b"\x30\x84\x7f\xff\xff\xff"), id="v3-header-lies"),
    ],
)
def test_memory_stays_within_a_few_times_the_datagram(data: bytes) -> None:
    tracemalloc.start()
    try:
        fuzzing.decode_all(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(data) + 256 * 1024


class _HostileAgent(asyncio.DatagramProtocol):
    """Answers each request twice: random garbage, then the right request-id with a broken body."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        _, request_id = ber.message_key(data)
        self.transport.sendto(b"\x30\x03\xff\xff\xff", addr)
        broken = ber.encode_v2c(b"c", ber.tlv(ber.PDU_RESPONSE, ber.encode_integer(request_id) + b"\x02\x00"))
        self.transport.sendto(broken, addr)


async def test_a_garbage_answering_agent_is_one_bad_answer_and_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_HostileAgent, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    client = NativeClient()
    try:
        endpoint = SnmpEndpoint("liar", "127.0.0.1", port, SnmpCredentials("2c", community="c"), 0.2, 2)
        with caplog.at_level(logging.WARNING, logger="collectors.snmp.transport"):
            for _ in range(3):
                with pytest.raises(BadAnswer, match=r"^liar \(127\.0\.0\.1:\d+\): "):
                    await client.get(endpoint, [(1, 3, 6, 1, 2, 1, 1, 3, 0)])
    finally:
        client.close()
        transport.close()
    warnings = [r.getMessage() for r in caplog.records]
    # 9 requests sent (3 polls x 3 tries), 18 bad datagrams: one line for the address, one for the device.
    assert len(warnings) == 2, warnings
    assert any("undecodable SNMP datagram from 127.0.0.1" in w for w in warnings)
    assert any(w.startswith("liar: unusable SNMP answer") for w in warnings)
    assert not any(r.exc_info for r in caplog.records)
