"""The one app helper behind every HTTP stand-in: state, health, error shape, and what runs with the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI

from motcua_devstack.standins import create_carrier_app, create_mailbox_app, create_sms_gateway_app
from motcua_devstack.standins._app import standin_app
from motcua_devstack.standins._http import StandinError
from motcua_devstack.standins.mailbox import MailStore


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (its lifespan) and a client talking to it in process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://standin") as client:
            yield client


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/teapot")
    async def teapot() -> None:
        raise StandinError(418, "teapot", "short and stout")

    return router


async def test_the_app_serves_health_its_routers_and_one_error_shape() -> None:
    state = object()
    app = standin_app("kettle", "kettle", state=state, routers=[_router()])

    assert app.title == "motcua stand-in: kettle"
    assert app.state.standin is state
    async with running_app(app) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "service": "kettle"}
        teapot = await client.get("/teapot")
        assert (teapot.status_code, teapot.json()) == (418, {"error": "teapot", "message": "short and stout"})
        missing = await client.get("/nowhere")
        assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


async def test_what_runs_with_the_app_is_entered_at_each_start_and_left_at_each_stop() -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def running() -> AsyncIterator[None]:
        seen.append("start")
        try:
            yield
        finally:
            seen.append("stop")

    app = standin_app("kettle", "kettle", state=None, routers=[], running=running)
    for _ in range(2):
        async with running_app(app) as client:
            assert (await client.get("/healthz")).status_code == 200
            assert seen[-1] == "start"

    assert seen == ["start", "stop", "start", "stop"]


async def test_the_three_stand_ins_are_built_by_the_helper(tmp_path: Path) -> None:
    apps = {
        "sms_gateway": create_sms_gateway_app("key"),
        "carrier": create_carrier_app("key"),
        "mailbox": create_mailbox_app(MailStore(tmp_path), "http://127.0.0.1:9/bounces"),
    }
    for service, app in apps.items():
        assert app.title.startswith("motcua stand-in: ")
        async with running_app(app) as client:
            assert (await client.get("/healthz")).json() == {"status": "ok", "service": service}
            if service == "mailbox":  # while the app runs, bounces go to its webhook
                assert app.state.standin._bounce_sink is app.state.bounce_webhook
    store = apps["mailbox"].state.standin
    assert store._bounce_sink is None  # the bounce webhook is let go when the app stops
