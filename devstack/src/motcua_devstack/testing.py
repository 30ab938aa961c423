"""Pytest plugin shared by every test tier: real local servers, started once per test session.

Enable with ``pytest_plugins = ["motcua_devstack.testing"]`` in a ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from motcua_devstack import servers

T = TypeVar("T")


@dataclass
class LocalStack:
    kafka: servers.LocalServer
    mongo: servers.LocalServer
    keys_dir: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka.port}"

    @property
    def mongo_url(self) -> str:
        return servers.mongo_url(self.mongo.port)

    def env(self, prefix: str, database: str, topic_prefix: str = "", **extra: Any) -> dict[str, str]:
        """Environment variables for one service against this stack, with test-friendly timings."""
        env = {
            f"{prefix}KAFKA__TOPIC_PREFIX": topic_prefix,
            f"{prefix}MONGO__URL": self.mongo_url,
            f"{prefix}MONGO__DATABASE": database,
            f"{prefix}KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
            # The local broker answers JoinGroup after session_timeout/2: keep it short in tests.
            f"{prefix}KAFKA__SESSION_TIMEOUT_MS": "2000",
            f"{prefix}KAFKA__HEARTBEAT_INTERVAL_MS": "300",
            f"{prefix}AUTH__JWKS_FILE": str(self.keys_dir / "jwks.json"),
            f"{prefix}AUTH__ISSUER": "motcua-local",
            f"{prefix}CONSUMER__BACKOFF_INITIAL_SECONDS": "0.05",
            f"{prefix}CONSUMER__BACKOFF_MAX_SECONDS": "0.2",
            f"{prefix}RELAY__IDLE_POLL_SECONDS": "0.05",
            f"{prefix}RELAY__BACKOFF_MAX_SECONDS": "0.5",
        }
        env.update({f"{prefix}{k.upper()}": str(v) for k, v in extra.items()})
        return env


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    from motcua_kit.auth import create_dev_keys

    root = tmp_path_factory.mktemp("local-stack")
    kafka = servers.tansu(servers.free_port(), root / "tansu.log")
    mongo = servers.secantus(servers.free_port(), root / "mongo", root / "secantus.log")
    kafka.start()
    mongo.start()
    try:
        servers.wait_for_mongo(servers.mongo_url(mongo.port))
        keys = root / "keys"
        create_dev_keys(keys)
        yield LocalStack(kafka=kafka, mongo=mongo, keys_dir=keys)
    finally:
        kafka.stop()
        mongo.stop()


@pytest.fixture
def unique_name() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def service_env(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, unique_name: str) -> Callable[..., str]:
    """Points a service's settings at the local stack with a fresh database; returns the database name."""

    def apply(prefix: str, **extra: Any) -> str:
        database = f"{prefix.lower().strip('_')}_{unique_name}"
        for key, value in local_stack.env(prefix, database, f"t{unique_name}.", **extra).items():
            monkeypatch.setenv(key, value)
        return database

    return apply


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 20.0, interval: float = 0.1,
                     message: str = "condition not met") -> T:
    """Polls ``check`` until it returns a truthy value, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{message} within {timeout} s (last value: {last!r})")


def ci() -> bool:
    return os.environ.get("CI") == "true"
