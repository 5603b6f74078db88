"""A lean BER codec for SNMPv2c GET/GETBULK requests and responses: pure functions over bytes, ints and tuples.

Why it exists: pysnmp decodes each answer through pyasn1's generic object model, which costs ~80 % of a walk's
CPU (see bench/snmp_poll.py). SNMP needs a handful of BER types only, so a direct decoder is an order of magnitude
cheaper. It is strict: every length is checked against the buffer, indefinite lengths and unknown tags are
refused with :class:`~collectors.errors.BadAnswer`; it never reads past the datagram it was given.
"""

from __future__ import annotations

from collectors.errors import BadAnswer
from collectors.snmp.client import Oid, SnmpType, VarBind

SNMP_V2C = 1
TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_NULL = 0x05
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
PDU_GET = 0xA0
PDU_RESPONSE = 0xA2
PDU_GETBULK = 0xA5

_VALUE_TAGS: dict[int, SnmpType] = {
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
_UNSIGNED_TAGS = frozenset({0x41, 0x42, 0x43, 0x46})
_BYTES_TAGS = frozenset({0x04, 0x40, 0x44})
_EMPTY_TAGS = frozenset({0x05, 0x80, 0x81, 0x82})
_UNSIGNED_MAX = {0x41: 2**32 - 1, 0x42: 2**32 - 1, 0x43: 2**32 - 1, 0x46: 2**64 - 1}


# ---------------------------------------------------------------- encoding


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def encode_integer(value: int) -> bytes:
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return _tlv(TAG_INTEGER, value.to_bytes(size, "big", signed=True))


def encode_oid(value: Oid) -> bytes:
    if len(value) < 2 or value[0] > 2 or (value[0] < 2 and value[1] >= 40):
        raise ValueError(f"not an encodable OID: {value}")
    out = bytearray()
    for arc in (value[0] * 40 + value[1], *value[2:]):
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = []
        while arc:
            chunk.append(arc & 0x7F)
            arc >>= 7
        out.extend(b | 0x80 for b in reversed(chunk[1:]))
        out.append(chunk[0])
    return _tlv(TAG_OID, bytes(out))


_NULL = b"\x05\x00"


def encode_request(
    community: bytes, pdu_tag: int, request_id: int, oids: tuple[Oid, ...] | list[Oid], field2: int, field3: int
) -> bytes:
    """A v2c message; for GETBULK ``field2``/``field3`` are non-repeaters/max-repetitions, for GET both 0."""
    varbinds = b"".join(_tlv(TAG_SEQUENCE, encode_oid(o) + _NULL) for o in oids)
    pdu = _tlv(
        pdu_tag,
        encode_integer(request_id) + encode_integer(field2) + encode_integer(field3) + _tlv(TAG_SEQUENCE, varbinds),
    )
    return _tlv(TAG_SEQUENCE, encode_integer(SNMP_V2C) + _tlv(TAG_OCTET_STRING, community) + pdu)


# ---------------------------------------------------------------- decoding


def _header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the TLV at ``pos``; every bound checked against ``end``."""
    if pos + 2 > end:
        raise BadAnswer("truncated BER header")
    tag = data[pos]
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise BadAnswer("bad or indefinite BER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise BadAnswer("BER length runs past the datagram")
    return tag, pos, pos + length


def _expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    got, start, stop = _header(data, pos, end)
    if got != tag:
        raise BadAnswer(f"expected BER tag 0x{tag:02x}, got 0x{got:02x}")
    return start, stop


def _signed(data: bytes, start: int, stop: int) -> int:
    if start == stop:
        raise BadAnswer("empty INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True)


def decode_oid(body: bytes) -> Oid:
    if not body:
        raise BadAnswer("empty OBJECT IDENTIFIER")
    if max(body) < 0x80:
        # Fast path (most table OIDs): every arc fits one byte, so the bytes ARE the arcs.
        first = body[0]
        head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
        return (*head, *body[1:])
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if body[-1] & 0x80:
        raise BadAnswer("truncated OBJECT IDENTIFIER")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def _value(tag: int, data: bytes, start: int, stop: int) -> int | bytes | Oid | None:
    if tag in _BYTES_TAGS:
        return data[start:stop]
    if tag == TAG_INTEGER:
        return _signed(data, start, stop)
    if tag in _UNSIGNED_TAGS:
        if start == stop:
            raise BadAnswer("empty unsigned value")
        value = int.from_bytes(data[start:stop], "big")
        if value > _UNSIGNED_MAX[tag]:
            raise BadAnswer(f"{_VALUE_TAGS[tag].value} out of range")
        return value
    if tag == TAG_OID:
        return decode_oid(data[start:stop])
    if tag in _EMPTY_TAGS:
        return None
    raise BadAnswer(f"unknown SNMP value tag 0x{tag:02x}")


def decode_response(data: bytes) -> tuple[int, bytes, int, int, list[VarBind]]:
    """A v2c Response-PDU → (request_id, community, error_status, error_index, varbinds)."""
    end = len(data)
    start, stop = _expect(data, 0, end, TAG_SEQUENCE)
    v_start, v_stop = _expect(data, start, stop, TAG_INTEGER)
    if _signed(data, v_start, v_stop) != SNMP_V2C:
        raise BadAnswer("not an SNMPv2c message")
    c_start, c_stop = _expect(data, v_stop, stop, TAG_OCTET_STRING)
    community = data[c_start:c_stop]
    p_start, p_stop = _expect(data, c_stop, stop, PDU_RESPONSE)
    r_start, r_stop = _expect(data, p_start, p_stop, TAG_INTEGER)
    s_start, s_stop = _expect(data, r_stop, p_stop, TAG_INTEGER)
    i_start, i_stop = _expect(data, s_stop, p_stop, TAG_INTEGER)
    l_start, l_stop = _expect(data, i_stop, p_stop, TAG_SEQUENCE)
    varbinds: list[VarBind] = []
    pos = l_start
    while pos < l_stop:  # each step consumes at least 2 bytes: bounded by the datagram size
        vb_start, vb_stop = _expect(data, pos, l_stop, TAG_SEQUENCE)
        o_start, o_stop = _expect(data, vb_start, vb_stop, TAG_OID)
        tag, val_start, val_stop = _header(data, o_stop, vb_stop)
        kind = _VALUE_TAGS.get(tag)
        if kind is None:
            raise BadAnswer(f"unknown SNMP value tag 0x{tag:02x}")
        varbinds.append(VarBind(decode_oid(data[o_start:o_stop]), kind, _value(tag, data, val_start, val_stop)))
        pos = vb_stop
    return (
        _signed(data, r_start, r_stop),
        community,
        _signed(data, s_start, s_stop),
        _signed(data, i_start, i_stop),
        varbinds,
    )
