"""One dossier through the whole product, started by ``motcua up`` exactly as a developer does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from motcua_devstack.servers import free_port
from motcua_kit.auth import Role, mint_token

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CENTRE = "000.00.06.H56"
PORT_NAMES = (
    "kafka",
    "mongo",
    "reception",
    "processing",
    "postal",
    "notify",
    "sms",
    "sms-backup",
    "carrier",
    "mailbox",
    "smtp",
)


@dataclass
class RunningStack:
    data_dir: Path
    ports: dict[str, int]
    proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def headers(self, role: str, scope: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.data_dir / "keys", role=Role(role), scope=scope)}

    def start(self) -> None:
        args = [str(Path(sys.executable).parent / "motcua"), "up", "--data-dir", str(self.data_dir)]
        for name in PORT_NAMES:
            args += [f"--{name}-port", str(self.ports[name])]
        state = self.data_dir / "stack.json"
        if state.exists():
            state.unlink()
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            # The test runs at any hour: SMS must not wait for the end of quiet hours (tested in notify).
            env={**os.environ, "PYTHONUNBUFFERED": "1", "NOTIFY_QUIET_HOURS__ENABLED": "false"},
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.proc.stdout.read().decode() if self.proc.stdout else ""
                raise AssertionError(f"motcua up exited with {self.proc.returncode}:\n{output}")
            if state.exists() and json.loads(state.read_text()).get("ready"):
                return
            time.sleep(0.2)
        raise AssertionError("motcua up did not become ready within 180 s")

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = RunningStack(tmp_path_factory.mktemp("motcua"), {name: free_port() for name in PORT_NAMES})
    running.start()
    try:
        yield running
    finally:
        if running.proc and running.proc.poll() is None:
            running.stop()


def poll(fetch: Any, *, timeout: float = 30.0, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fetch()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not seen within {timeout} s (last: {last!r})")


def intake(**overrides: Any) -> dict[str, Any]:
    body = json.loads((REPO / "devstack/examples/intake.json").read_text(encoding="utf-8"))
    body.update(overrides)
    return body


def test_every_service_answers_health_metrics_and_openapi(stack: RunningStack) -> None:
    for name in ("reception", "processing", "postal", "notify"):
        base = stack.url(name)
        assert httpx.get(base + "/health/live", timeout=5).status_code == 200
        ready = httpx.get(base + "/health/ready", timeout=5)
        assert ready.status_code == 200, ready.text
        assert "motcua_http_requests_total" in httpx.get(base + "/metrics", timeout=5).text
        assert httpx.get(base + "/openapi.json", timeout=5).json()["info"]["title"] == f"motcua {name}"


def test_a_dossier_travels_through_all_four_services_and_the_citizen_hears_once(stack: RunningStack) -> None:
    officer = stack.headers("counter_officer", CENTRE)
    r = httpx.post(stack.url("reception") + "/dossiers", json=intake(), headers=officer, timeout=30)
    assert r.status_code == 201, r.text
    code = r.json()["code"]

    leader = stack.headers("agency_leader", "000.00.13.H56")
    case = poll(
        lambda: _json_if_ok(httpx.get(f"{stack.url('processing')}/cases/{code}", headers=leader, timeout=5)),
        what="case opened by processing",
    )
    assert [s["agency_code"] for s in case["steps"]] == ["000.00.13.H56", "000.00.45.H56"]

    partner = stack.headers("postal_partner", "VNPOST-KHH")
    delivery = poll(
        lambda: _json_if_ok(httpx.get(f"{stack.url('postal')}/deliveries/{code}", headers=partner, timeout=5)),
        what="postal delivery planned",
    )
    assert delivery["status"] == "awaiting_result"

    def sent() -> list[dict[str, Any]] | None:
        r = httpx.get(f"{stack.url('notify')}/dossiers/{code}/notifications", headers=officer, timeout=5)
        items = r.json() if r.status_code == 200 else []
        # Accepted by the provider: "sent", or already "delivered" when the gateway's receipt came first (0.2 s).
        return items if len(items) == 2 and all(n["status"] in ("sent", "delivered") for n in items) else None

    notifications = poll(sent, what="SMS and e-mail sent")
    assert {n["channel"] for n in notifications} == {"sms", "email"}

    def register_followed() -> dict[str, Any] | None:
        d = _json_if_ok(httpx.get(f"{stack.url('reception')}/dossiers/{code}", headers=officer, timeout=5))
        notes = [h["note"] for h in (d or {}).get("history", [])]
        done = d and d["status"] == 4 and {"Đã gửi SMS cho công dân", "Đã gửi thư điện tử cho công dân"} <= set(notes)
        return d if done else None

    register = poll(register_followed, what="reception's register following processing and notify")
    assert register["status_name"] == "Đang xử lý"

    sms = _sms_for(stack, code)
    assert len(sms) == 1
    assert sms[0]["text"].startswith(f"Ho so {code} da duoc tiep nhan. Ngay hen tra: ")
    mails = _mails_for(stack, code)
    assert len(mails) == 1 and mails[0]["subject"] == f"Hồ sơ {code} đã được tiếp nhận"
    assert "Nguyễn Thị Hoa" in mails[0]["text"]

    # A dossier returned at the counter, SMS only: postal stays out of it, no e-mail is sent.
    r = httpx.post(
        stack.url("reception") + "/dossiers",
        json=intake(return_channel="counter", notify_channels=["sms"]),
        headers=officer,
        timeout=30,
    )
    second = r.json()["code"]
    poll(
        lambda: _json_if_ok(httpx.get(f"{stack.url('processing')}/cases/{second}", headers=leader, timeout=5)),
        what="second case opened",
    )
    poll(lambda: _sms_for(stack, second), what="second SMS")
    assert httpx.get(f"{stack.url('postal')}/deliveries/{second}", headers=partner, timeout=5).status_code == 404
    assert _mails_for(stack, second) == []
    assert len(_sms_for(stack, code)) == 1 and len(_mails_for(stack, code)) == 1


def test_ctrl_c_stops_everything_and_a_restart_keeps_the_database(stack: RunningStack) -> None:
    officer = stack.headers("counter_officer", CENTRE)
    code = httpx.post(stack.url("reception") + "/dossiers", json=intake(), headers=officer, timeout=30).json()["code"]
    assert stack.stop() == 0
    for name in ("reception", "notify", "kafka", "mongo", "sms"):
        with pytest.raises(httpx.TransportError):
            httpx.get(stack.url(name), timeout=1)
    stack.start()
    r = httpx.get(f"{stack.url('reception')}/dossiers/{code}", headers=officer, timeout=10)
    assert r.status_code == 200 and r.json()["code"] == code


def _json_if_ok(r: httpx.Response) -> Any:
    return r.json() if r.status_code == 200 else None


def _sms_for(stack: RunningStack, code: str) -> list[dict[str, Any]]:
    r = httpx.get(stack.url("sms") + "/_control/messages", timeout=5)
    return [m for m in r.json() if code in m["text"]]


def _mails_for(stack: RunningStack, code: str) -> list[dict[str, Any]]:
    r = httpx.get(stack.url("mailbox") + "/_control/mails", timeout=5)
    return [m for m in r.json() if code in (m["subject"] or "")]
