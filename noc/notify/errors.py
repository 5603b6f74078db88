"""One exception root for notifications; library errors are wrapped at the channel boundary."""

from __future__ import annotations


class NotifyError(Exception):
    """Root of the notification errors."""


class DeliveryFailed(NotifyError):
    """A channel did not take a message: the peer refused it, answered an error, or could not be reached. The
    text says why and never carries the channel's secret."""
