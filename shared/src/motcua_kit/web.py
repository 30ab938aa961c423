"""What every service's FastAPI app has: correlation ids, metrics, clear 4xx errors, health."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from motcua_kit import metrics
from motcua_kit.errors import AppError
from motcua_kit.logs import get_logger
from motcua_kit.runtime import ServiceRuntime
from motcua_kit.settings import ServiceSettings
from motcua_kit.uow import UnitOfWork

log = get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def attach_runtime(app: FastAPI, rt: ServiceRuntime, settings: ServiceSettings) -> None:
    """Makes the started runtime available to routes, auth and readiness."""
    app.state.rt = rt
    app.state.settings = settings
    app.state.verifier = rt.verifier
    app.state.readiness = rt.readiness


def _runtime(request: Request) -> ServiceRuntime[Any]:
    runtime: ServiceRuntime[Any] = request.app.state.rt
    return runtime


Runtime = Annotated[ServiceRuntime[Any], Depends(_runtime)]
"""Route dependency: the service's runtime (database, producer, settings)."""


def new_uow(request: Request) -> UnitOfWork[Any]:
    """Route dependency: a new unit of work for this request. Services alias it with their repositories:
    ``UoW = Annotated[UnitOfWork[Repositories], Depends(new_uow)]``."""
    return _runtime(request).uow()


class MetricsMiddleware:
    """Counts requests by route template (never by raw path: paths carry dossier codes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if template not in ("/metrics",):
                metrics.record_http(scope["method"], template, status, time.perf_counter() - started)


def _validation_message(errors: Sequence[Any]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts)


def build_app(
    *,
    title: str,
    version: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    description: str = "",
) -> FastAPI:
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        body: dict[str, Any] = {"error": exc.code, "message": exc.message}
        if exc.details is not None:
            body["details"] = jsonable_encoder(exc.details)
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]
        return JSONResponse(
            {"error": "invalid_request", "message": _validation_message(errors), "details": details}, status_code=422
        )

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/health/ready", tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        check: ReadinessCheck | None = getattr(request.app.state, "readiness", None)
        checks = await check() if check else {"starting": False}
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503
        )

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Correlation-ID")  # outermost
    return app
