"""A real SMTP server on loopback (``aiosmtpd``), in three ways an operator's relay runs: plain (a local relay),
STARTTLS with authentication (587) and TLS from the first byte with authentication (465). Its certificate is made
here for 127.0.0.1; the client trusts it through the channel's ``ca_file``. Every accepted message lands in one
mailbox (thread-safe: the servers run in their own threads)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.peers.ports import free_tcp_port

USER, PASSWORD = "noc-mailer", "smtp-pw-0f9e8d7c"


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def all(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass(frozen=True)
class SmtpServers:
    mailbox: Mailbox
    plain_port: int
    starttls_port: int
    ssl_port: int
    ca_file: Path


@contextmanager
def smtp_servers(directory: Path) -> Iterator[SmtpServers]:
    cert_file, key_file = self_signed(directory)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    mailbox = Mailbox()
    ports = [free_tcp_port() for _ in range(3)]
    secured: dict[str, Any] = {"authenticator": _authenticate, "auth_required": True}
    controllers = [
        Controller(mailbox, hostname="127.0.0.1", port=ports[0]),
        Controller(mailbox, hostname="127.0.0.1", port=ports[1], tls_context=tls, require_starttls=True, **secured),
        # TLS from the first byte: aiosmtpd counts only STARTTLS as TLS for AUTH, so it is told the link is secure.
        Controller(mailbox, hostname="127.0.0.1", port=ports[2], ssl_context=tls, auth_require_tls=False, **secured),
    ]
    with ExitStack() as stack:
        for controller in controllers:
            controller.start()
            stack.callback(controller.stop)
        yield SmtpServers(mailbox, ports[0], ports[1], ports[2], cert_file)
