"""Fixtures for the stand-in tests: real servers on free loopback ports, a callback receiver, polling."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request, Response

from motcua_devstack.standins import MailStore, start_mailbox_smtp
from motcua_devstack.standins.mailbox import MailboxController
from motcua_devstack.standins.runner import HttpServerHandle, start_http_server

WaitUntil = Callable[..., Awaitable[Any]]
ServeApp = Callable[[FastAPI], Awaitable[HttpServerHandle]]


async def _wait_until(
    probe: Callable[[], Any] | Callable[[], Awaitable[Any]],
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
    message: str = "condition not met",
) -> Any:
    """Poll ``probe`` (sync or async) until it returns something truthy, or fail at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {timeout} s: {message}")
        await asyncio.sleep(interval)


@pytest.fixture
def wait_until() -> WaitUntil:
    return _wait_until


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A port that was free a moment ago (only for code paths that cannot bind port 0)."""

    def pick() -> int:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    return pick


@pytest_asyncio.fixture
async def serve_app() -> AsyncIterator[ServeApp]:
    """Start apps on free loopback ports; every one is stopped at teardown."""
    handles: list[HttpServerHandle] = []

    async def start(app: FastAPI) -> HttpServerHandle:
        handle = await start_http_server(app, "127.0.0.1", 0, name="test", graceful_shutdown_seconds=1)
        handles.append(handle)
        return handle

    yield start
    for handle in reversed(handles):
        await handle.stop()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        yield client


@dataclass
class ReceivedCall:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny HTTP server standing for the product's callback endpoints."""

    url: str = ""
    fail_next: int = 0
    accepted: list[ReceivedCall] = field(default_factory=list)
    refused: list[ReceivedCall] = field(default_factory=list)

    def build_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            call = ReceivedCall(headers=dict(request.headers), body=await request.body())
            if self.fail_next > 0:
                self.fail_next -= 1
                self.refused.append(call)
                return Response(status_code=503)
            self.accepted.append(call)
            return Response(status_code=204)

        return app


@pytest_asyncio.fixture
async def receiver(serve_app: ServeApp) -> Receiver:
    receiver = Receiver()
    handle = await serve_app(receiver.build_app())
    receiver.url = f"{handle.url}/hook"
    return receiver


# --- the SMTP mailbox ---------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> MailStore:
    return MailStore(tmp_path / "mails")


@pytest_asyncio.fixture
async def smtp(store: MailStore) -> AsyncIterator[MailboxController]:
    controller = await asyncio.to_thread(start_mailbox_smtp, store, "127.0.0.1", 0)
    yield controller
    await asyncio.to_thread(controller.stop)
