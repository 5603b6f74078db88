"""Hostile datagrams for the BER and USM decoders, shared by the bounded suite (test_fuzz.py) and the long run
(bench/fuzz_snmp_decoders.py): random bytes, valid v2c/v3 answers truncated, bit-flipped, spliced or with lying
lengths, deeply nested and oversized TLVs."""

from __future__ import annotations

import contextlib

from hypothesis import strategies as st

from collectors.errors import BadAnswer
from collectors.snmp import ber, usm

ENGINE = bytes.fromhex("80001f8880aabbccdd00112233")
KEYS = usm.localized_keys("SHA-256", "fuzz-auth-key", "AES", "fuzz-priv-key", ENGINE)
CLOCK = usm.EngineClock(ENGINE, 3, 500, 0.0)


def decode_all(data: bytes) -> None:
    """Every decoder an answer meets on its way in; each may only raise BadAnswer."""
    with contextlib.suppress(BadAnswer):
        ber.message_key(data)
    with contextlib.suppress(BadAnswer):
        ber.decode_response(data)
    try:
        envelope = usm.decode_envelope(data)
    except BadAnswer:
        return
    usm.authentic(data, envelope, KEYS)
    with contextlib.suppress(BadAnswer):
        usm.scoped_pdu(data, envelope, KEYS if envelope.encrypted else None)


_values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(ber.encode_integer),
    st.binary(max_size=64).map(lambda b: ber.tlv(ber.TAG_OCTET_STRING, b)),
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=12).map(lambda a: ber.encode_oid((1, 3, *a))),
    st.sampled_from([b"\x05\x00", b"\x80\x00", b"\x81\x00", b"\x82\x00", b"\x41\x01\x07", b"\x46\x02\x01\x00"]),
)
_varbinds = st.lists(
    st.tuples(st.lists(st.integers(0, 2**16), min_size=1, max_size=10), _values).map(
        lambda t: ber.tlv(ber.TAG_SEQUENCE, ber.encode_oid((1, 3, *t[0])) + t[1])
    ),
    max_size=20,
).map(b"".join)


def _pdu(tag: int, request_id: int, varbinds: bytes) -> bytes:
    body = ber.encode_integer(request_id) + ber.encode_integer(0) * 2 + ber.tlv(ber.TAG_SEQUENCE, varbinds)
    return ber.tlv(tag, body)


v2c_answers = st.builds(
    lambda rid, vbs: ber.encode_v2c(b"public", _pdu(ber.PDU_RESPONSE, rid, vbs)), st.integers(0, 2**31 - 1), _varbinds
)
v3_answers = st.builds(
    lambda rid, vbs, salt: usm.encode_request(
        msg_id=rid, clock=CLOCK, now=1.0, user=b"fuzz", keys=KEYS, salt=salt, pdu=_pdu(ber.PDU_RESPONSE, rid, vbs)
    ),
    st.integers(0, 2**31 - 1),
    _varbinds,
    st.integers(0, 2**64 - 1),
)
valid_answers = st.one_of(v2c_answers, v3_answers)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(valid_answers))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "lie"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:  # a length that lies: long form claiming up to 4 GiB
            data[at:at] = b"\x84" + draw(st.binary(min_size=4, max_size=4))
    return bytes(data)


@st.composite
def nested(draw: st.DrawFn) -> bytes:
    """SEQUENCE in SEQUENCE (or PDU in PDU, OCTET STRING in ...) up to 2,000 deep around a few random bytes."""
    depth = draw(st.integers(1, 2000))
    tag = draw(st.sampled_from([ber.TAG_SEQUENCE, ber.PDU_RESPONSE, ber.TAG_OCTET_STRING]))
    inner = draw(st.binary(max_size=16))
    for _ in range(depth):
        inner = ber.tlv(tag, inner)
    return inner


oversized = st.builds(
    lambda tag, length, tail: bytes((tag, 0x84)) + length.to_bytes(4, "big") + tail,
    st.sampled_from([ber.TAG_SEQUENCE, ber.TAG_OCTET_STRING, ber.TAG_INTEGER]),
    st.integers(2**16, 2**32 - 1),
    st.binary(max_size=64),
)
hostile = st.one_of(st.binary(max_size=1500), mutated(), nested(), oversized)
