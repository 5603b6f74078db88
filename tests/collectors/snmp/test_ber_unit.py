"""The BER codec's fast paths against a plain oracle: the inlined varbind decoder decides exactly as a decoder built
from the public primitives one TLV at a time (same varbinds, or BadAnswer for both), on valid and on mutated
VarBindLists; the memo tables change no answer and stay bounded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.errors import BadAnswer
from collectors.snmp import ber
from collectors.snmp.client import Oid, SnmpType, VarBind

_KINDS = {
    0x02: SnmpType.INTEGER,
    0x04: SnmpType.OCTET_STRING,
    0x05: SnmpType.NULL,
    0x06: SnmpType.OBJECT_IDENTIFIER,
    0x40: SnmpType.IP_ADDRESS,
    0x41: SnmpType.COUNTER32,
    0x42: SnmpType.GAUGE32,
    0x43: SnmpType.TIMETICKS,
    0x44: SnmpType.OPAQUE,
    0x46: SnmpType.COUNTER64,
    0x80: SnmpType.NO_SUCH_OBJECT,
    0x81: SnmpType.NO_SUCH_INSTANCE,
    0x82: SnmpType.END_OF_MIB_VIEW,
}
_UNSIGNED_MAX = {0x41: 2**32 - 1, 0x42: 2**32 - 1, 0x43: 2**32 - 1, 0x46: 2**64 - 1}


def oracle(data: bytes) -> list[VarBind]:
    """A VarBindList decoded one TLV at a time with header/expect: slow, plain, the specification."""
    out = []
    pos, end = 0, len(data)
    while pos < end:
        vb_start, vb_stop = ber.expect(data, pos, end, ber.TAG_SEQUENCE)
        o_start, o_stop = ber.expect(data, vb_start, vb_stop, ber.TAG_OID)
        tag, v_start, v_stop = ber.header(data, o_stop, vb_stop)
        if tag not in _KINDS:
            raise BadAnswer("unknown tag")
        name = ber.decode_oid(data[o_start:o_stop])
        raw = data[v_start:v_stop]
        value: int | bytes | Oid | None
        if tag in _UNSIGNED_MAX:
            if not raw or len(raw) > 9 or int.from_bytes(raw, "big") > _UNSIGNED_MAX[tag]:
                raise BadAnswer("unsigned out of range")
            value = int.from_bytes(raw, "big")
        elif tag == ber.TAG_INTEGER:
            value = ber.signed(data, v_start, v_stop)
        elif tag in (0x04, 0x40, 0x44):
            value = raw
        elif tag == ber.TAG_OID:
            value = ber.decode_oid(raw)
        else:
            value = None
        out.append(VarBind(name, _KINDS[tag], value))
        pos = vb_stop
    return out


def outcome(decode: object, data: bytes) -> list[VarBind] | str:
    assert callable(decode)
    try:
        result: list[VarBind] = decode(data)
    except BadAnswer:
        return "BadAnswer"
    return result


oids = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=14).map(lambda arcs: (1, 3, *arcs))
small_oids = st.lists(st.integers(0, 127), min_size=1, max_size=12).map(lambda arcs: (1, 3, 6, 1, *arcs))
values = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(ber.encode_integer),
    st.tuples(st.sampled_from([0x41, 0x42, 0x43]), st.integers(0, 2**32 - 1)),
    st.tuples(st.just(0x46), st.integers(0, 2**64 - 1)),
    st.tuples(st.sampled_from([0x04, 0x40, 0x44]), st.binary(max_size=200)),
    oids.map(ber.encode_oid),
    st.sampled_from([b"\x05\x00", b"\x80\x00", b"\x81\x00", b"\x82\x00"]),
).map(lambda v: v if isinstance(v, bytes) else _encode_value(*v))


def _encode_value(tag: int, value: int | bytes) -> bytes:
    if isinstance(value, bytes):
        return ber.tlv(tag, value)
    return ber.tlv(tag, value.to_bytes(value.bit_length() // 8 + 1, "big"))  # unsigned: a leading 0 when needed


varbinds = st.tuples(st.one_of(small_oids, oids), values).map(
    lambda t: ber.tlv(ber.TAG_SEQUENCE, ber.encode_oid(t[0]) + t[1])
)
varbind_lists = st.lists(varbinds, max_size=12).map(b"".join)


@st.composite
def mutated_lists(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(varbind_lists))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[at : at + draw(st.integers(1, 4))]
    return bytes(data)


def _fast(data: bytes) -> list[VarBind]:
    return ber.decode_varbinds(data, 0, len(data))


@settings(max_examples=400, deadline=None)
@given(data=varbind_lists)
def test_valid_varbind_lists_decode_as_the_oracle_says(data: bytes) -> None:
    expected = oracle(data)
    assert _fast(data) == expected
    assert _fast(data) == expected  # again, from the memo


@settings(max_examples=600, deadline=None)
@given(data=mutated_lists())
def test_mutated_varbind_lists_are_accepted_or_refused_as_the_oracle_says(data: bytes) -> None:
    assert outcome(_fast, data) == outcome(oracle, data)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x30\x05\x06\x00\x41\x01\x01", id="empty-oid"),
        pytest.param(b"\x30\x06\x06\x01\x2b\x41\x01\x01", id="oid-length-mismatch"),
        pytest.param(b"\x30\x05\x06\x01\x2b\x41\x00", id="empty-counter"),
        pytest.param(b"\x30\x0e\x06\x01\x2b\x41\x09" + bytes(9), id="counter32-9-octets-zero"),
        pytest.param(b"\x30\x0a\x06\x01\x2b\x41\x05\x01\x00\x00\x00\x00", id="counter32-over"),
        pytest.param(b"\x30\x0f\x06\x01\x2b\x46\x0a" + bytes(10), id="counter64-10-octets"),
        pytest.param(b"\x30\x06\x06\x01\x2b\x02\x01\x01\x00", id="trailing-octet-in-varbind"),
        pytest.param(b"\x30\x81\x06\x06\x01\x2b\x02\x01\x01", id="long-form-sequence"),
        # 0x81 0x06 is a long-form length of 6, not SEQUENCE length 0x81 followed by an OID tag.
        pytest.param(b"\x30\x81\x06\x05\x2b\x06\x01\x02\x01\x04\x78" + bytes(120), id="long-form-looks-short"),
        pytest.param(b"\x30\x05\x06\x01\xab\x05\x00", id="truncated-oid"),
        pytest.param(b"\x30\x05\x06\x01\x2b\x99\x00", id="unknown-tag"),
        pytest.param(b"\x30\x05\x06\x01\x2b\x05", id="cut-short"),
    ],
)
def test_edge_cases_as_the_oracle_says(raw: bytes) -> None:
    assert outcome(_fast, raw) == outcome(oracle, raw)


def test_memo_tables_stay_bounded_and_change_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ber, "MEMO_ENTRIES", 8)
    monkeypatch.setattr(ber, "_decoded_oids", {})
    monkeypatch.setattr(ber, "_request_varbinds", {})
    monkeypatch.setattr(ber, "_varbind_heads", {})
    names = [(1, 3, 6, 1, 2, 1, 2, 2, 1, 10, i) for i in range(1, 40)] + [(1, 3, 6, 1, 4, 1, 2**31, 7)]
    for _ in range(2):
        data = b"".join(ber.tlv(ber.TAG_SEQUENCE, ber.encode_oid(name) + b"\x41\x01\x07") for name in names)
        assert [vb.oid for vb in _fast(data)] == names
        for name in names:
            request = ber.encode_pdu(ber.PDU_GET, 1, [name], 0, 0)
            expected = ber.tlv(ber.TAG_SEQUENCE, ber.encode_oid(name) + b"\x05\x00")
            assert request.endswith(ber.tlv(ber.TAG_SEQUENCE, expected))
        assert len(ber._decoded_oids) <= 8
        assert len(ber._varbind_heads) <= 8
        assert len(ber._request_varbinds) <= 8


def test_an_unencodable_oid_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="not an encodable OID"):
            ber.encode_pdu(ber.PDU_GET, 1, [(7, 99)], 0, 0)


def test_a_remembered_head_still_checks_what_only_the_value_tells() -> None:
    head = b"\x30\x0a\x06\x01\x2b\x41\x05"  # Counter32 in 5 octets: in range only with a leading zero
    assert _fast(head + b"\x00\xff\xff\xff\xff") == [VarBind((1, 3), SnmpType.COUNTER32, 2**32 - 1)]
    for hostile in (head + b"\x01\x00\x00\x00\x00", head + b"\x00\xff\xff", b"\x30\x0a\x06\x01\x2b"):
        assert outcome(_fast, hostile) == outcome(oracle, hostile) == "BadAnswer"
    oid_value = ber.tlv(ber.TAG_SEQUENCE, ber.encode_oid((1, 3)) + b"\x06\x02\x2b\x06")
    assert _fast(oid_value) == _fast(oid_value) == [VarBind((1, 3), SnmpType.OBJECT_IDENTIFIER, (1, 3, 6))]
    truncated_oid_value = oid_value[:-1] + b"\x86"
    assert outcome(_fast, truncated_oid_value) == outcome(oracle, truncated_oid_value) == "BadAnswer"


def _plain_integer_at(data: bytes, pos: int, end: int) -> tuple[int, int]:
    tag, start, stop = ber.header(data, pos, end)
    if tag != ber.TAG_INTEGER:
        raise BadAnswer("not an INTEGER")
    return ber.signed(data, start, stop), stop


def _plain_expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    got, start, stop = ber.header(data, pos, end)
    if got != tag:
        raise BadAnswer("another tag")
    return start, stop


tlv_soup = st.lists(
    st.one_of(
        st.integers(-(2**70), 2**70).map(
            lambda v: ber.tlv(ber.TAG_INTEGER, v.to_bytes(v.bit_length() // 8 + 1, "big", signed=True))
        ),
        st.binary(max_size=300).map(lambda b: ber.tlv(ber.TAG_OCTET_STRING, b)),
        st.binary(max_size=6),
    ),
    max_size=4,
).map(b"".join)


def _result(function: Callable[..., object], *args: object) -> object:
    try:
        return function(*args)
    except BadAnswer:
        return "BadAnswer"


@settings(max_examples=500, deadline=None)
@given(data=tlv_soup, cut=st.integers(0, 8))
def test_inlined_short_forms_decide_as_header_does(data: bytes, cut: int) -> None:
    end = max(0, len(data) - cut)
    for pos in range(min(len(data), 12)):
        assert _result(ber.integer_at, data, pos, end) == _result(_plain_integer_at, data, pos, end)
        for tag in (ber.TAG_INTEGER, ber.TAG_OCTET_STRING, ber.TAG_SEQUENCE):
            assert _result(ber.expect, data, pos, end, tag) == _result(_plain_expect, data, pos, end, tag)
