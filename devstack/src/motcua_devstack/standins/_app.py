"""The one way a stand-in builds its FastAPI app: title, state, error shape, health, routers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI

from ._http import health_router, install_error_handlers

Running = Callable[[], AbstractAsyncContextManager[object]]
"""What a stand-in keeps open while its app runs (background tasks, a webhook); entered at startup."""


def standin_app(
    service: str,
    title: str,
    *,
    state: object,
    routers: Sequence[APIRouter],
    running: Running | None = None,
) -> FastAPI:
    """A stand-in's app: ``app.state.standin`` is ``state``; ``GET /healthz`` names ``service``.

    Errors answer ``{"error", "message"}`` (see :mod:`._http`). ``running`` (optional) is entered
    when the app starts and left when it stops, every time it runs.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if running is None:
            yield
            return
        async with running():
            yield

    app = FastAPI(title=f"motcua stand-in: {title}", lifespan=lifespan)
    app.state.standin = state
    install_error_handlers(app)
    app.include_router(health_router(service))
    for router in routers:
        app.include_router(router)
    return app
