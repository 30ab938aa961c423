"""The brand-name SMS gateway: ``POST /v1/sms``, de-duplicating on ``client_ref``."""

from __future__ import annotations

import httpx

from notify.clients.errors import PermanentSendError, RetryableSendError
from notify.settings import SmsSettings

PERMANENT_STATUSES = frozenset({400, 401, 403, 422})


class SmsGatewayClient:
    def __init__(self, settings: SmsSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self._http = httpx.AsyncClient(
            base_url=settings.url,
            headers={"Authorization": f"Bearer {settings.api_key}"},
            timeout=httpx.Timeout(settings.timeout_seconds, connect=min(settings.timeout_seconds, 3.0)),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, phone: str, text: str, client_ref: str) -> str:
        """Sends one SMS; returns the gateway's message id (the same one for a repeated ``client_ref``)."""
        body = {
            "sender": self.settings.sender,
            "phone": phone,
            "text": text,
            "client_ref": client_ref,
            "callback_url": self.settings.receipt_url,
        }
        try:
            response = await self._http.post("/v1/sms", json=body)
        except httpx.TimeoutException as exc:
            raise RetryableSendError("timeout", f"no answer from the SMS gateway: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise RetryableSendError("connection", f"SMS gateway unreachable: {exc!r}") from exc
        return message_id_of(response)


def message_id_of(response: httpx.Response) -> str:
    """The message id of an accepted request; raises the right error for every other answer."""
    if response.status_code in (200, 202):
        try:
            return str(response.json()["message_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise RetryableSendError("bad_response", "SMS gateway accepted without a message id") from exc
    error, message = _error_body(response)
    if response.status_code == 429:
        raise RetryableSendError("throttled", message, retry_after_seconds=_retry_after(response))
    if response.status_code in PERMANENT_STATUSES or (
        400 <= response.status_code < 500 and response.status_code != 408
    ):
        raise PermanentSendError(error or f"http_{response.status_code}", message)
    raise RetryableSendError("server_error" if response.status_code >= 500 else f"http_{response.status_code}", message)


def _error_body(response: httpx.Response) -> tuple[str | None, str]:
    try:
        data = response.json()
    except ValueError:
        return None, f"HTTP {response.status_code}"
    if not isinstance(data, dict):
        return None, f"HTTP {response.status_code}"
    error = data.get("error")
    return (str(error) if error else None), str(data.get("message") or f"HTTP {response.status_code}")


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None
