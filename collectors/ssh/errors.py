"""Errors of the SSH collector, all under the one collectors root (``collectors.errors.CollectorError``).

Each maps to one :data:`collectors.ssh.states.ProbeState` so the assembly can show a reason without parsing text.
"""

from __future__ import annotations

from collectors.errors import BadAnswer, CollectorError, CredentialsRejected, DeviceUnreachable

__all__ = [
    "CommandRejected",
    "ConnectionRefused",
    "CredentialsRejected",
    "HostKeyChanged",
    "HostKeyRejected",
    "HostKeyUnknown",
    "OutputParseError",
    "SessionTimeout",
    "SshCollectorError",
    "UnsupportedPlatform",
]


class SshCollectorError(CollectorError):
    """Root of the SSH collector's own errors (a convenience; everything is still a ``CollectorError``)."""


class OutputParseError(BadAnswer, SshCollectorError):
    """The device answered, but the output is not the format we know; we never guess a number from it."""


class CommandRejected(BadAnswer, SshCollectorError):
    """The platform refused the command (syntax error, unknown VRF, bad address, missing privilege)."""


class HostKeyRejected(SshCollectorError):
    """The device's host key was not accepted."""


class HostKeyChanged(HostKeyRejected):
    """The device presented a host key that differs from the pinned one: possibly a replaced box, possibly MITM."""


class HostKeyUnknown(HostKeyRejected):
    """Strict host-key checking is on and the device's key is not in the known-hosts file."""


class ConnectionRefused(DeviceUnreachable, SshCollectorError):
    """Nothing listens on the SSH port (TCP RST)."""


class SessionTimeout(DeviceUnreachable, SshCollectorError):
    """Connect, banner, authentication or a command did not complete within its timeout."""


class UnsupportedPlatform(SshCollectorError):
    """No command templates exist for this platform name."""
