"""E-mail through an SMTP server with ``aiosmtplib``: STARTTLS (587), TLS from the first byte (465) or none (a
local relay), with authentication when the settings give a user."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib

from noc.notify.errors import DeliveryFailed
from noc.notify.outgoing import Outgoing
from noc.settings import EmailChannel


class EmailSender:
    def __init__(self, settings: EmailChannel) -> None:
        self.settings = settings
        self._tls = ssl.create_default_context(cafile=settings.ca_file) if settings.security != "none" else None

    async def send(self, message: Outgoing) -> None:
        if message.address is None:
            raise DeliveryFailed("an e-mail needs the recipient's address")
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail.set_content(message.text)
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password.get_secret_value() if s.password else None,
                use_tls=s.security == "ssl",
                start_tls=s.security == "starttls",
                tls_context=self._tls,
                timeout=s.timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP {s.host}:{s.port}: {type(exc).__name__}: {exc}") from exc
