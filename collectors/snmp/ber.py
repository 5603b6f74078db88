"""A lean BER codec for SNMP GET/GETBULK requests and their answers: pure functions over bytes, ints and tuples.

Why it exists: pysnmp decodes each answer through pyasn1's generic object model, which costs ~80 % of a walk's
CPU (see bench/snmp_poll.py). SNMP needs a handful of BER types only, so a direct decoder is an order of magnitude
cheaper. It is strict: every length is checked against the enclosing TLV, indefinite lengths, lengths of more than
4 octets and unknown tags are refused with :class:`~collectors.errors.BadAnswer`; it never reads past the datagram
it was given. The decoders are not recursive (the SNMP message layout is fixed), so nesting depth costs nothing and
every loop consumes at least two bytes per step: time and memory are bounded by the datagram's size.

Speed (a poll asks for and gets back the same OIDs every cycle): three bounded memo tables remember the encoded
request varbind of each OID asked for, the OID of each encoded OID seen in an answer, and each varbind head (every
octet before the value's) that decoded well; a varbind with a known head costs a slice, a lookup and its value, the
others one inlined pass (:func:`decode_varbinds`). The tables hold only what a successful encode or decode
produced, so every function here still answers as a pure function of its arguments; when a table is full it starts
again (an agent sending ever new OIDs costs a little speed, never memory: at most ``MEMO_ENTRIES`` per table).

The SNMPv2c message is here; the SNMPv3 envelope and USM (RFC 3414) are in :mod:`collectors.snmp.usm`, built on
the same primitives (:func:`tlv`, :func:`header`, :func:`expect`, :func:`decode_pdu`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from collectors.errors import BadAnswer
from collectors.snmp.client import Oid, SnmpType, VarBind

SNMP_V2C = 1
SNMP_V3 = 3
TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_NULL = 0x05
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
PDU_GET = 0xA0
PDU_RESPONSE = 0xA2
PDU_GETBULK = 0xA5
PDU_REPORT = 0xA8
_ANSWER_TAGS = frozenset({PDU_RESPONSE, PDU_REPORT})

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
_NUMBER_TAGS = _UNSIGNED_TAGS | {TAG_INTEGER}
_BYTES_TAGS = frozenset({0x04, 0x40, 0x44})
_EMPTY_TAGS = frozenset({0x05, 0x80, 0x81, 0x82})
_UNSIGNED_MAX = {0x41: 2**32 - 1, 0x42: 2**32 - 1, 0x43: 2**32 - 1, 0x46: 2**64 - 1}
# The same two tables indexed by tag (a tuple index is cheaper than a dict lookup, once per varbind).
_KIND_BY_TAG: Final[tuple[SnmpType | None, ...]] = tuple(_VALUE_TAGS.get(tag) for tag in range(256))
_UNSIGNED_MAX_BY_TAG: Final[tuple[int, ...]] = tuple(_UNSIGNED_MAX.get(tag, 0) for tag in range(256))
_new_varbind = tuple.__new__  # VarBind(...) without the named tuple's Python-level __new__
# INTEGER fields of the message (ids, status, boots, time) are 32-bit; a 9-byte integer is an attack, not a value.
_MAX_INTEGER_OCTETS = 9


@dataclass(frozen=True, slots=True)
class Pdu:
    """A decoded Response-PDU or Report-PDU."""

    tag: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


# ---------------------------------------------------------------- encoding


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def encode_integer(value: int) -> bytes:
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return tlv(TAG_INTEGER, value.to_bytes(size, "big", signed=True))


def encode_oid(value: Oid) -> bytes:
    if len(value) < 2 or value[0] > 2 or (value[0] < 2 and value[1] >= 40):
        raise ValueError(f"not an encodable OID: {value}")
    first = value[0] * 40 + value[1]
    if first < 0x80 and max(value) < 0x80 and min(value) >= 0:
        # Fast path (most table OIDs): every arc fits one byte, so the arcs ARE the bytes.
        return tlv(TAG_OID, bytes((first, *value[2:])))
    out = bytearray()
    for arc in (first, *value[2:]):
        if arc < 0:
            raise ValueError(f"not an encodable OID: {value}")
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = []
        while arc:
            chunk.append(arc & 0x7F)
            arc >>= 7
        out.extend(b | 0x80 for b in reversed(chunk[1:]))
        out.append(chunk[0])
    return tlv(TAG_OID, bytes(out))


_NULL = b"\x05\x00"
_V2C_VERSION = b"\x02\x01\x01"  # INTEGER 1 (SNMPv2c)

MEMO_ENTRIES: Final = 16_384  # per table; the three full of 12-arc OIDs take about 11 MB
_MEMO_OID_OCTETS: Final = 64  # longer OIDs (rare) are decoded every time
# How a remembered head's value is read; its unsigned maximum is 0 when the value's length cannot exceed it.
_UNSIGNED, _SIGNED, _OCTETS, _OBJECT_ID, _EMPTY = range(5)
_VarBindHead = tuple[Oid, SnmpType, int, int, int]  # name, type, value form, value length, unsigned maximum

_request_varbinds: dict[Oid, bytes] = {}  # OID -> SEQUENCE { OID, NULL } as a request carries it
_decoded_oids: dict[bytes, Oid] = {}  # contents octets of an OBJECT IDENTIFIER -> the OID
_varbind_heads: dict[bytes, _VarBindHead] = {}  # a varbind's octets before its value's -> what they said


def _request_varbind(value: Oid) -> bytes:
    encoded = tlv(TAG_SEQUENCE, encode_oid(value) + _NULL)
    if len(_request_varbinds) >= MEMO_ENTRIES:
        _request_varbinds.clear()
    _request_varbinds[value] = encoded
    return encoded


def encode_pdu(pdu_tag: int, request_id: int, oids: tuple[Oid, ...] | list[Oid], field2: int, field3: int) -> bytes:
    """A GET/GETBULK PDU; for GETBULK ``field2``/``field3`` are non-repeaters/max-repetitions, for GET both 0.

    The varbinds come from the memo: between two polls of a device only the request-id is new."""
    memo = _request_varbinds
    varbinds = b"".join([memo.get(o) or _request_varbind(o) for o in oids])
    return tlv(
        pdu_tag,
        encode_integer(request_id) + encode_integer(field2) + encode_integer(field3) + tlv(TAG_SEQUENCE, varbinds),
    )


def encode_v2c(community: bytes, pdu: bytes) -> bytes:
    """A v2c message around a PDU from :func:`encode_pdu`."""
    return tlv(TAG_SEQUENCE, _V2C_VERSION + tlv(TAG_OCTET_STRING, community) + pdu)


# ---------------------------------------------------------------- decoding


def header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
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


# expect, integer_at and octets_at read the usual short form inline and leave every other case to header():
# the same answers and errors, fewer calls (an SNMPv3 envelope is some twenty of them).


def expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    start = pos + 2
    if start <= end and data[pos] == tag and data[pos + 1] < 0x80 and start + data[pos + 1] <= end:
        return start, start + data[pos + 1]
    got, start, stop = header(data, pos, end)
    if got != tag:
        raise BadAnswer(f"expected BER tag 0x{tag:02x}, got 0x{got:02x}")
    return start, stop


def signed(data: bytes, start: int, stop: int) -> int:
    if start == stop:
        raise BadAnswer("empty INTEGER")
    if stop - start > _MAX_INTEGER_OCTETS:
        raise BadAnswer("INTEGER longer than 64 bits")
    return int.from_bytes(data[start:stop], "big", signed=True)


def integer_at(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, end of the TLV) of the INTEGER at ``pos``."""
    start = pos + 2
    if start <= end and data[pos] == TAG_INTEGER:
        stop = start + data[pos + 1]
        if start < stop <= end and stop - start <= _MAX_INTEGER_OCTETS:
            return int.from_bytes(data[start:stop], "big", signed=True), stop
    start, stop = expect(data, pos, end, TAG_INTEGER)
    return signed(data, start, stop), stop


def octets_at(data: bytes, pos: int, end: int) -> tuple[bytes, int, int]:
    """(value, value start, end of the TLV) of the OCTET STRING at ``pos``."""
    start, stop = expect(data, pos, end, TAG_OCTET_STRING)
    return data[start:stop], start, stop


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


def _memo_oid(body: bytes) -> Oid:
    """:func:`decode_oid`, remembered by its encoding."""
    name = decode_oid(body)
    if len(body) <= _MEMO_OID_OCTETS:
        if len(_decoded_oids) >= MEMO_ENTRIES:
            _decoded_oids.clear()
        _decoded_oids[body] = name
    return name


def _value(tag: int, data: bytes, start: int, stop: int) -> int | bytes | Oid | None:
    if tag in _UNSIGNED_TAGS:  # counters, gauges, timeticks first: most of what a poll reads
        if start == stop:
            raise BadAnswer("empty unsigned value")
        if stop - start > _MAX_INTEGER_OCTETS:
            raise BadAnswer(f"{_VALUE_TAGS[tag].value} out of range")
        value = int.from_bytes(data[start:stop], "big")
        if value > _UNSIGNED_MAX[tag]:
            raise BadAnswer(f"{_VALUE_TAGS[tag].value} out of range")
        return value
    if tag in _BYTES_TAGS:
        return data[start:stop]
    if tag == TAG_INTEGER:
        return signed(data, start, stop)
    if tag == TAG_OID:
        body = data[start:stop]
        return _decoded_oids.get(body) or _memo_oid(body)
    if tag in _EMPTY_TAGS:
        return None
    raise BadAnswer(f"unknown SNMP value tag 0x{tag:02x}")


def _varbind(data: bytes, pos: int, end: int) -> tuple[VarBind, int]:
    """The general path for one varbind (any length form): (varbind, end of its TLV)."""
    vb_start, vb_stop = expect(data, pos, end, TAG_SEQUENCE)
    o_start, o_stop = expect(data, vb_start, vb_stop, TAG_OID)
    tag, val_start, val_stop = header(data, o_stop, vb_stop)
    kind = _VALUE_TAGS.get(tag)
    if kind is None:
        raise BadAnswer(f"unknown SNMP value tag 0x{tag:02x}")
    body = data[o_start:o_stop]
    name = _decoded_oids.get(body) or _memo_oid(body)
    return VarBind(name, kind, _value(tag, data, val_start, val_stop)), vb_stop


def _remember_head(head: bytes, name: Oid, kind: SnmpType, v_tag: int, length: int) -> None:
    """Remember a varbind head (SEQUENCE, OID and the value's tag and length) that just decoded well."""
    limit = _UNSIGNED_MAX_BY_TAG[v_tag]
    if limit:
        # Only a value of more octets than the type's width can be out of range: check those, and only those.
        form, check = _UNSIGNED, (limit if length > (limit.bit_length() // 8) else 0)
    else:
        form = {TAG_INTEGER: _SIGNED, TAG_OID: _OBJECT_ID}.get(v_tag, _OCTETS if v_tag in _BYTES_TAGS else _EMPTY)
        check = 0
    if len(_varbind_heads) >= MEMO_ENTRIES:
        _varbind_heads.clear()
    _varbind_heads[head] = (name, kind, form, length, check)


def decode_varbinds(data: bytes, pos: int, end: int) -> list[VarBind]:
    """The varbinds from ``pos`` to ``end`` (the contents of a VarBindList).

    One pass, three tiers. (1) A varbind whose head (SEQUENCE, OID and the value's tag and length: every octet but
    the value's) decoded well before is read from the memo: only the value is new. (2) The usual varbind, inlined:
    SEQUENCE, OID and value all with short-form lengths and the value filling the SEQUENCE; its head is then
    remembered. (3) Anything else (long-form lengths, trailing octets, errors) takes :func:`_varbind`, the general
    path. All three decide exactly as the general path would. Each step consumes at least 2 bytes.
    """
    varbinds: list[VarBind] = []
    append = varbinds.append
    heads = _varbind_heads
    names = _decoded_oids
    kinds = _KIND_BY_TAG
    unsigned_max = _UNSIGNED_MAX_BY_TAG
    new_varbind = _new_varbind
    from_bytes = int.from_bytes
    value: int | bytes | Oid | None
    while pos < end:
        o_start = pos + 4
        if o_start <= end:
            v_start = o_start + 2 + data[pos + 3]
            known = heads.get(data[pos:v_start])
            if known is not None:
                name, kind, form, length, check = known
                vb_stop = v_start + length
                if vb_stop <= end:
                    if form == _UNSIGNED:
                        value = from_bytes(data[v_start:vb_stop])
                        if check and value > check:
                            raise BadAnswer(f"{kind.value} out of range")
                    elif form == _SIGNED:
                        value = from_bytes(data[v_start:vb_stop], signed=True)
                    elif form == _OCTETS:
                        value = data[v_start:vb_stop]
                    elif form == _OBJECT_ID:
                        body = data[v_start:vb_stop]
                        value = names.get(body) or _memo_oid(body)
                    else:
                        value = None
                    append(new_varbind(VarBind, (name, kind, value)))
                    pos = vb_stop
                    continue
            vb_length = data[pos + 1]
            o_stop = v_start - 2
            vb_stop = pos + 2 + vb_length
            if (
                data[pos] == TAG_SEQUENCE
                and data[pos + 2] == TAG_OID
                and vb_length < 0x80
                and v_start <= vb_stop <= end
                and data[o_stop + 1] == vb_stop - v_start
            ):
                # Short forms throughout (the OID's length is below the SEQUENCE's, the value's is what remains).
                v_tag = data[o_stop]
                v_kind = kinds[v_tag]
                if v_kind is not None:
                    body = data[o_start:o_stop]
                    name = names.get(body) or _memo_oid(body)
                    limit = unsigned_max[v_tag]
                    if limit:  # counters, gauges, timeticks: most of what a poll reads
                        if v_start == vb_stop:
                            raise BadAnswer("empty unsigned value")
                        if vb_stop - v_start > _MAX_INTEGER_OCTETS:
                            raise BadAnswer(f"{v_kind.value} out of range")
                        number = from_bytes(data[v_start:vb_stop])
                        if number > limit:
                            raise BadAnswer(f"{v_kind.value} out of range")
                        value = number
                    elif v_tag == TAG_INTEGER:
                        value = signed(data, v_start, vb_stop)
                    elif v_tag in _BYTES_TAGS:
                        value = data[v_start:vb_stop]
                    elif v_tag == TAG_OID:
                        body = data[v_start:vb_stop]
                        value = names.get(body) or _memo_oid(body)
                    else:  # NULL and the exceptions
                        value = None
                    if o_stop - o_start <= _MEMO_OID_OCTETS:
                        _remember_head(data[pos:v_start], name, v_kind, v_tag, vb_stop - v_start)
                    append(new_varbind(VarBind, (name, v_kind, value)))
                    pos = vb_stop
                    continue
        varbind, pos = _varbind(data, pos, end)
        append(varbind)
    return varbinds


def decode_pdu(data: bytes, pos: int, end: int) -> Pdu:
    """The Response-PDU or Report-PDU at ``pos`` (bounded by ``end``)."""
    tag, p_start, p_stop = header(data, pos, end)
    if tag not in _ANSWER_TAGS:
        raise BadAnswer(f"expected a Response or Report PDU, got BER tag 0x{tag:02x}")
    request_id, pos = integer_at(data, p_start, p_stop)
    status, pos = integer_at(data, pos, p_stop)
    index, pos = integer_at(data, pos, p_stop)
    l_start, l_stop = expect(data, pos, p_stop, TAG_SEQUENCE)
    return Pdu(tag, request_id, status, index, decode_varbinds(data, l_start, l_stop))


def decode_response(data: bytes) -> tuple[bytes, Pdu]:
    """A v2c message → (community, Response-PDU)."""
    end = len(data)
    start, stop = expect(data, 0, end, TAG_SEQUENCE)
    version, pos = integer_at(data, start, stop)
    if version != SNMP_V2C:
        raise BadAnswer("not an SNMPv2c message")
    community, _, pos = octets_at(data, pos, stop)
    pdu = decode_pdu(data, pos, stop)
    if pdu.tag != PDU_RESPONSE:
        raise BadAnswer("SNMPv2c answer is not a Response-PDU")
    return community, pdu


def message_key(data: bytes) -> tuple[int, int]:
    """(version, id) of a message without decoding it all: the v2c request-id or the v3 msgID.

    Enough for the socket to hand the datagram to the request waiting for it; the full (and, for v3,
    authenticated) decode happens in that request's task.
    """
    end = len(data)
    start, stop = expect(data, 0, end, TAG_SEQUENCE)
    version, pos = integer_at(data, start, stop)
    if version == SNMP_V2C:
        _, _, pos = octets_at(data, pos, stop)
        _, p_start, p_stop = header(data, pos, stop)
        request_id, _ = integer_at(data, p_start, p_stop)
        return version, request_id
    if version == SNMP_V3:
        g_start, g_stop = expect(data, pos, stop, TAG_SEQUENCE)
        msg_id, _ = integer_at(data, g_start, g_stop)
        return version, msg_id
    raise BadAnswer(f"unsupported SNMP message version {version}")
