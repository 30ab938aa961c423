"""How a provider call failed: worth retrying, or not."""

from __future__ import annotations


class SendError(Exception):
    """A provider did not accept a message. ``kind`` is a short label for metrics and staff."""

    def __init__(self, kind: str, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.retry_after_seconds = retry_after_seconds


class RetryableSendError(SendError):
    """The provider may accept the same message later (throttled, down, slow, unreachable)."""


class PermanentSendError(SendError):
    """Sending the same message again cannot succeed (bad address, refused credentials)."""
