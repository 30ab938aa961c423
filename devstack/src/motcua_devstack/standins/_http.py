"""Pieces shared by the HTTP stand-ins: errors, bearer auth, health, small helpers.

Every error answer has the same shape: ``{"error": "<code>", "message": "<text>"}``
(validation errors add ``"details"``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator
from starlette.exceptions import HTTPException as StarletteHTTPException

_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}


class StandinError(Exception):
    """An error answered to the client as ``{"error", "message"}`` with ``status_code``."""

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.headers = dict(headers or {})


def error_body(error: str, message: str) -> dict[str, str]:
    return {"error": error, "message": message}


async def _standin_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StandinError)
    return JSONResponse(error_body(exc.error, exc.message), status_code=exc.status_code, headers=exc.headers)


def _describe_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in errors
    ]


async def _validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _describe_validation_errors(list(exc.errors()))
    message = "; ".join(f"{'.'.join(item['loc'])}: {item['msg']}" for item in details) or "invalid request"
    body = {**error_body("validation_error", message), "details": details}
    return JSONResponse(body, status_code=422)


async def _http_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StandinError, _standin_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)


def bearer_auth(api_key: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing requests without ``Authorization: Bearer <api_key>`` (401)."""
    expected = api_key.encode()

    async def require_bearer(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise StandinError(
                401,
                "unauthorized",
                "missing or invalid bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_bearer


def health_router(service: str) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    return router


def check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


HttpUrlStr = Annotated[str, AfterValidator(check_http_url)]
"""A string that must be an absolute http(s) URL; kept exactly as sent."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def utc_now_iso() -> str:
    return iso(utc_now())


def encode_json(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes sent (and signed) in callbacks."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
