"""The blocking edge: one SSH CLI session to one device, on netmiko, run inside a worker thread.

Everything here blocks and is meant to be called through :class:`collectors.ssh.collector.SshCollector`, which runs
it in its bounded thread pool. Library errors (socket, paramiko, netmiko) are wrapped here, at the boundary, into
the collectors hierarchy with ``raise ... from``; nothing above this module imports netmiko or paramiko.

We open the TCP socket ourselves and hand it to netmiko (``sock=``) so that :meth:`NetmikoSession.abort`, called
from the event loop when a device's deadline expires, can shut it down and unblock a worker stuck in a banner,
key-exchange, authentication or command read.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import paramiko  # type: ignore[import-untyped, unused-ignore]  # no stubs unless types-paramiko is added
from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoBaseException, ReadTimeout

from collectors.errors import CollectorError, CredentialsRejected, DeviceUnreachable
from collectors.model import DeviceTarget
from collectors.ssh.errors import (
    ConnectionRefused,
    HostKeyChanged,
    HostKeyUnknown,
    SessionTimeout,
    SshCollectorError,
)
from collectors.ssh.platforms import platform_for

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """Per-phase timeouts (seconds) and host-key policy for one session."""

    connect_timeout_s: float = 10.0
    auth_timeout_s: float = 10.0
    # Pinned host keys (OpenSSH known_hosts format; "[host]:port" entries for non-22 ports). A mismatch is always
    # refused; with ``strict_host_keys`` an unknown key is refused too, else it is accepted for this session only.
    known_hosts_path: str | None = None
    strict_host_keys: bool = False


class CliSession(Protocol):
    """What the collector needs from a session; tests substitute fakes that count or stall."""

    def send_command(self, command: str, read_timeout_s: float) -> str: ...

    def close(self) -> None: ...

    def abort(self) -> None:
        """Called from another thread: make any blocked call return (with an error) as soon as possible."""
        ...


# Opens a session (blocking). ``on_socket`` receives an abort handle as soon as there is something to abort.
SessionOpener = Callable[[DeviceTarget, SessionOptions, "AbortHandle"], CliSession]


class AbortHandle:
    """Shared between the loop (which may abort) and the worker (which registers what to close)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._aborted = False
        self._closers: list[Callable[[], None]] = []

    @property
    def aborted(self) -> bool:
        return self._aborted

    def register(self, closer: Callable[[], None]) -> None:
        with self._lock:
            if not self._aborted:
                self._closers.append(closer)
                return
        closer()

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            closers, self._closers = self._closers, []
        for closer in closers:
            # Already closed is fine: the point was to unblock, and it is.
            with contextlib.suppress(OSError):
                closer()


def _load_private_key(text: str) -> paramiko.PKey:
    """``SshCredentials.private_key`` is the key text (PEM / OpenSSH), decrypted by the assembly at the last moment."""
    errors: list[str] = []
    key_classes: tuple[Any, ...] = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)
    for cls in key_classes:
        try:
            key: paramiko.PKey = cls.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError) as exc:
            errors.append(type(exc).__name__)
            continue
        return key
    # Never include the key text in the message.
    raise CredentialsRejected(f"private key is not a readable Ed25519 / ECDSA / RSA key ({', '.join(errors)})")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes / contexts: netmiko re-raises paramiko errors without ``from``."""
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 10:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def classify(exc: BaseException, device: DeviceTarget, phase: str) -> CollectorError:
    """Map a library exception to our hierarchy; the message names the device and phase, never a secret."""
    where = f"{device.name} ({device.address}:{device.ssh_port}) during {phase}"
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, CollectorError):
            return e
        if isinstance(e, paramiko.BadHostKeyException):
            return HostKeyChanged(
                f"{where}: host key changed (got {e.key.get_name()} {e.key.fingerprint}, "
                f"pinned {e.expected_key.get_name()} {e.expected_key.fingerprint})"
            )
        if isinstance(e, paramiko.AuthenticationException | NetmikoAuthenticationException):
            return CredentialsRejected(f"{where}: authentication failed")
        if isinstance(e, ConnectionRefusedError):
            return ConnectionRefused(f"{where}: connection refused")
        if isinstance(e, TimeoutError | socket.timeout | ReadTimeout):
            return SessionTimeout(f"{where}: timed out")
    for e in chain:
        if isinstance(e, paramiko.SSHException) and "not found in known_hosts" in str(e):
            return HostKeyUnknown(f"{where}: host key not in known_hosts and strict checking is on")
        text = str(e).lower()
        if "timed out" in text or "timeout" in text or "banner" in text or "no existing session" in text:
            return SessionTimeout(f"{where}: timed out ({type(e).__name__})")
        if isinstance(e, EOFError | ConnectionResetError | BrokenPipeError) or "closed" in text:
            return DeviceUnreachable(f"{where}: connection closed by peer ({type(e).__name__})")
    first = chain[0]
    if isinstance(first, NetmikoBaseException | paramiko.SSHException | OSError):
        return SshCollectorError(f"{where}: {type(first).__name__}: {str(first).splitlines()[0] if str(first) else ''}")
    return SshCollectorError(f"{where}: unexpected {type(first).__name__}")


class NetmikoSession:
    """A connected netmiko session (implements :class:`CliSession`)."""

    def __init__(self, conn: Any, device: DeviceTarget, handle: AbortHandle) -> None:
        self._conn = conn
        self._device = device
        self._handle = handle

    def send_command(self, command: str, read_timeout_s: float) -> str:
        try:
            out = self._conn.send_command(command, read_timeout=read_timeout_s, strip_command=True)
        except Exception as exc:
            if self._handle.aborted:
                raise SessionTimeout(f"{self._device.name}: aborted at the device deadline") from exc
            raise classify(exc, self._device, f"command {command.split()[0]!r}") from exc
        if not isinstance(out, str):
            raise SshCollectorError(f"{self._device.name}: command returned {type(out).__name__}, not text")
        return out

    def close(self) -> None:
        try:
            self._conn.disconnect()
        except Exception:  # best effort: the session is being thrown away anyway
            log.debug("disconnect from %s failed", self._device.name, exc_info=True)

    def abort(self) -> None:
        self._handle.abort()


def open_netmiko_session(device: DeviceTarget, options: SessionOptions, handle: AbortHandle) -> NetmikoSession:
    """Connect and log in (blocking). Raises only ``CollectorError`` subclasses."""
    creds = device.ssh
    if creds is None:
        raise CredentialsRejected(f"{device.name}: no SSH credentials configured")
    platform = platform_for(device.platform)
    try:
        sock = socket.create_connection((device.address, device.ssh_port), timeout=options.connect_timeout_s)
    except OSError as exc:
        raise classify(exc, device, "TCP connect") from exc

    def close_socket() -> None:
        # paramiko may already have closed it (failed login); a second close must not mask the real error.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    handle.register(close_socket)
    params: dict[str, Any] = {
        "device_type": platform.netmiko_device_type,
        "host": device.address,
        "port": device.ssh_port,
        "username": creds.username,
        "password": creds.password,
        "secret": creds.enable_secret or "",
        "sock": sock,
        "conn_timeout": options.connect_timeout_s,
        "banner_timeout": options.connect_timeout_s,
        "auth_timeout": options.auth_timeout_s,
        "allow_agent": False,
        "use_keys": False,
        "system_host_keys": False,
        "ssh_strict": options.strict_host_keys,
        "alt_host_keys": options.known_hosts_path is not None,
        "alt_key_file": options.known_hosts_path or "",
        # netmiko writes a session log only when asked; keep it that way (passwords would be echoed in it).
        "session_log": None,
    }
    if creds.private_key:
        params["pkey"] = _load_private_key(creds.private_key)
    try:
        conn = ConnectHandler(**params)
    except Exception as exc:
        close_socket()
        if handle.aborted:
            raise SessionTimeout(f"{device.name}: aborted at the device deadline during login") from exc
        raise classify(exc, device, "login") from exc

    def detach_channel() -> None:
        # netmiko polls ``channel.remote_conn`` until its read timeout, even on a closed socket; without the
        # channel its next poll raises ReadException, so an aborted command returns now, not at read_timeout.
        channel = getattr(conn, "channel", None)
        if channel is not None and hasattr(channel, "remote_conn"):
            channel.remote_conn = None

    handle.register(detach_channel)
    if creds.enable_secret:
        try:
            conn.enable()
        except Exception as exc:
            conn.disconnect()
            raise classify(exc, device, "enable") from exc
    return NetmikoSession(conn, device, handle)
