"""The own SNMP client's UDP engine: a few sockets shared by every target, answers matched to requests.

Design (one engine per client, one client per process and event loop):

- Every request gets an id unique in the engine (the v2c request-id, the v3 msgID), registered with the address it
  goes to; an answer is handed over only when id, version and source address all match. Late, foreign or
  duplicate datagrams are dropped; a request never sees another's answer.
- In-flight requests are capped per socket, at what the socket's receive buffer can hold while the loop is busy
  elsewhere (``receive_buffer_bytes`` asked of the kernel, as ``SO_RCVBUFFORCE`` when privileged, else
  ``SO_RCVBUF`` up to ``net.core.rmem_max``; the cap is the granted size divided by ``ANSWER_BUDGET_BYTES``). More
  sockets open as the load grows (up to ``max_sockets``); past that a request waits for a slot instead of
  overflowing a buffer and losing answers.
- A datagram that cannot even be matched (no readable id) is logged once per source address until an answer
  from that address is accepted again; one that matches but fails to decode or authenticate is the waiting request's
  business: it keeps waiting for a good answer within its timeout and, failing that, raises the decode error as
  :class:`~collectors.errors.BadAnswer` naming the device. Such errors are logged once per device until it answers
  well again, never once per packet.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import socket
from collections.abc import Callable
from typing import Any, TypeVar, cast

from collectors.errors import BadAnswer, DeviceUnreachable
from collectors.snmp import ber

log = logging.getLogger(__name__)

T = TypeVar("T")
ANSWER_BUDGET_BYTES = 8192  # a GETBULK answer of ~120 varbinds, with the kernel's per-datagram overhead
DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
_MAX_ID = 2_147_483_647
_QUEUED_ANSWERS = 4  # datagrams kept per waiting request (duplicates, garbage before the good one)


class _Waiter:
    """One request's mailbox: the datagrams matched to it, and the future it sleeps on while there are none.

    (A bare future and a deque, not an ``asyncio.Queue``: a request is one short wait, thousands per second.)"""

    __slots__ = ("address", "answers", "version", "wakeup")

    def __init__(self, address: tuple[str, int], version: int) -> None:
        self.address = address
        self.version = version
        self.answers: collections.deque[bytes] = collections.deque()
        self.wakeup: asyncio.Future[None] | None = None

    def deliver(self, data: bytes) -> None:
        if len(self.answers) < _QUEUED_ANSWERS:  # more is a flood: dropped, like a full socket buffer would
            self.answers.append(data)
            _wake(self.wakeup)


def _wake(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


class OnceLog:
    """Log a problem once per key until it is cleared (a state transition), not once per occurrence."""

    def __init__(self) -> None:
        self._failing: set[object] = set()

    def failed(self, key: object, message: str, *args: object) -> None:
        if key not in self._failing:
            self._failing.add(key)
            log.warning(message, *args)

    def cleared(self, key: object, message: str, *args: object) -> None:
        if key in self._failing:
            self._failing.discard(key)
            log.info(message, *args)


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, engine: UdpEngine) -> None:
        self.engine = engine
        self.pending: dict[int, _Waiter] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.in_flight = 0
        self.capacity = 1
        self.slots = asyncio.Semaphore(1)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # a datagram endpoint's transport
        self.capacity = self.engine.size_receive_buffer(transport.get_extra_info("socket"))
        self.slots = asyncio.Semaphore(self.capacity)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        source = (str(addr[0]), int(addr[1]))
        try:
            version, key = ber.message_key(data)
        except BadAnswer as exc:
            self.engine.unreadable.failed(source, "undecodable SNMP datagram from %s:%d: %s", *source, exc)
            return
        waiter = self.pending.get(key)
        if waiter is None or waiter.address != source or waiter.version != version:
            return  # late (after a timeout), duplicate or foreign
        waiter.deliver(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors on an unconnected socket carry no request: timeouts report the device instead.
        return


class UdpEngine:
    """Sockets, ids and waiting requests for one SNMP client. Create and use it inside one event loop."""

    def __init__(self, *, max_sockets: int = 16, receive_buffer_bytes: int = DEFAULT_RECEIVE_BUFFER_BYTES) -> None:
        self._sockets: list[_Socket] = []
        self._max_sockets = max_sockets
        self._receive_buffer_bytes = receive_buffer_bytes
        self._ids = itertools.count(1)
        self._opening: asyncio.Lock | None = None
        self.unreadable = OnceLog()
        self.bad_answers = OnceLog()

    def size_receive_buffer(self, sock: socket.socket) -> int:
        """Ask for the receive buffer; return how many answers in flight the granted size holds."""
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            if option is None:
                continue
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, self._receive_buffer_bytes)
                break
            except OSError:  # SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by rmem_max instead
                continue
        granted: int = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        return max(16, granted // ANSWER_BUDGET_BYTES)

    @property
    def sockets(self) -> int:
        return len(self._sockets)

    @property
    def capacity(self) -> int:
        """Requests that can be in flight at once on the sockets open now."""
        return sum(s.capacity for s in self._sockets)

    def _least_loaded(self) -> _Socket | None:
        """The socket with the most free slots, if one has a free slot or no more sockets may open."""
        best = None
        for sock in self._sockets:
            if best is None or sock.in_flight * best.capacity < best.in_flight * sock.capacity:
                best = sock
        if best is not None and (best.in_flight < best.capacity or len(self._sockets) >= self._max_sockets):
            return best
        return None

    async def _socket(self) -> _Socket:
        best = self._least_loaded()
        if best is not None:  # the usual case: no lock, no await
            return best
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            best = self._least_loaded()  # another request may have opened one meanwhile
            if best is not None:
                return best
            loop = asyncio.get_running_loop()
            # A client socket on an ephemeral port, like any SNMP manager: answers come from every device address.
            any_address = ("0.0.0.0", 0)  # noqa: S104
            _, protocol = await loop.create_datagram_endpoint(lambda: _Socket(self), local_addr=any_address)
            self._sockets.append(protocol)
            return protocol

    def _next_id(self) -> int:
        while True:
            candidate = next(self._ids) % _MAX_ID
            if candidate and all(candidate not in s.pending for s in self._sockets):
                return candidate

    async def exchange(
        self,
        device: str,
        address: tuple[str, int],
        version: int,
        build: Callable[[int], bytes],
        accept: Callable[[bytes], T],
        *,
        timeout_s: float,
        retries: int,
    ) -> T:
        """Send ``build(id)``, resend on timeout, return ``accept(answer)`` for the first answer it accepts.

        ``accept`` raises :class:`BadAnswer` for an answer it cannot use (the request keeps waiting for another);
        any other exception ends the exchange.
        """
        sock = await self._socket()
        sock.in_flight += 1
        try:
            async with sock.slots:
                request_id = self._next_id()
                packet = build(request_id)
                waiter = _Waiter(address, version)
                sock.pending[request_id] = waiter
                try:
                    return await self._attempts(device, sock, packet, waiter, accept, timeout_s, retries)
                finally:
                    del sock.pending[request_id]
        finally:
            sock.in_flight -= 1

    async def _attempts(
        self,
        device: str,
        sock: _Socket,
        packet: bytes,
        waiter: _Waiter,
        accept: Callable[[bytes], T],
        timeout_s: float,
        retries: int,
    ) -> T:
        assert sock.transport is not None
        loop = asyncio.get_running_loop()
        last: BadAnswer | None = None
        for _ in range(retries + 1):
            sock.transport.sendto(packet, waiter.address)
            deadline = loop.time() + timeout_s
            while True:
                if not waiter.answers:
                    # Sleep until a datagram or the deadline (a timer that wakes, not a cancellation: cheaper,
                    # and a cancellation from outside stays the caller's).
                    waiter.wakeup = wakeup = loop.create_future()
                    timer = loop.call_at(deadline, _wake, wakeup)
                    try:
                        await wakeup
                    finally:
                        timer.cancel()
                        waiter.wakeup = None
                    if not waiter.answers:
                        break  # timed out: send again, or give up
                data = waiter.answers.popleft()
                try:
                    result = accept(data)
                except BadAnswer as exc:
                    last = exc
                    self.bad_answers.failed(device, "%s: unusable SNMP answer: %s", device, exc)
                    continue
                self.bad_answers.cleared(device, "%s: SNMP answers usable again", device)
                self.unreadable.cleared(waiter.address, "SNMP datagrams from %s:%d usable again", *waiter.address)
                return result
        if last is not None:
            raise BadAnswer(f"{device} ({waiter.address[0]}:{waiter.address[1]}): {last}") from last
        raise DeviceUnreachable(
            f"{device} ({waiter.address[0]}:{waiter.address[1]}): no SNMP response within "
            f"{timeout_s:g} s x {retries + 1}"
        )

    def close(self) -> None:
        for sock in self._sockets:
            if sock.transport is not None:
                sock.transport.close()
        self._sockets.clear()
