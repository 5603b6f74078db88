"""The one exception root of the collectors package."""


class CollectorError(Exception):
    """Root of every error a collector raises; library errors are wrapped with ``raise ... from``."""


class DeviceUnreachable(CollectorError):
    """The device did not answer within its timeout and retries."""


class BadAnswer(CollectorError):
    """The device answered, but the answer is malformed or hostile (wrong types, missing columns, ...)."""


class CredentialsRejected(CollectorError):
    """The device refused the credentials (SSH authentication, SNMPv3 USM errors)."""


class WeakCryptoRefused(CollectorError):
    """An SNMPv3 profile asks for noAuthNoPriv, MD5 or DES without ``allow_weak_crypto``."""
