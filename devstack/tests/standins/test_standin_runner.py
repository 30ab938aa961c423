"""All stand-ins in one process: the library entry points and ``python -m motcua_devstack.standins``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest

import motcua_devstack.standins
from motcua_devstack.standins import StandinsConfig, open_standins, serve_standins

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

PHONE = "0912345678"
CITIZEN = "tran.thi.binh@example.vn"
UNKNOWN = "khong.ton.tai@example.invalid"
EPHEMERAL = {"sms_port": 0, "carrier_port": 0, "smtp_port": 0, "mailbox_http_port": 0}


def _env_importing_this_package() -> dict[str, str]:
    src_root = Path(motcua_devstack.standins.__file__).resolve().parents[2]
    paths = [str(src_root), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def healthy(http: httpx.AsyncClient, url: str) -> bool:
    try:
        response = await http.get(f"{url}/healthz")
    except httpx.TransportError:
        return False
    return response.status_code == 200


def vietnamese_mail(to: str = CITIZEN) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "mot-cua@example.gov.vn"
    message["To"] = to
    message["Subject"] = "Hồ sơ Đã tiếp nhận"
    message.set_content("Hồ sơ của bà Trần Thị Bình đã được tiếp nhận.")
    return message


async def test_open_standins_on_ephemeral_ports(tmp_path: Path, http: httpx.AsyncClient, wait_until: Any) -> None:
    config = StandinsConfig(sms_port=0, carrier_port=0, smtp_port=0, mailbox_http_port=0, mail_dir=tmp_path)

    async with open_standins(config) as running:
        services = [
            (await http.get(f"{handle.url}/healthz")).json()["service"]
            for handle in (running.sms, running.sms_backup, running.carrier, running.mailbox_http)
        ]
        await aiosmtplib.send(vietnamese_mail(), hostname="127.0.0.1", port=running.smtp_port, timeout=5)
        mails = await wait_until(lambda: _mails(http, running.mailbox_http.url), message="mail never arrived")
        ports = [
            running.sms.port,
            running.sms_backup.port,
            running.carrier.port,
            running.mailbox_http.port,
            running.smtp_port,
        ]

    assert services == ["sms_gateway", "sms_gateway", "carrier", "mailbox"]
    assert config.sms_backup_port == 0  # free ports asked for: the backup gets one too, not 8094
    assert len(set(ports)) == 5
    assert mails[0]["subject"] == "Hồ sơ Đã tiếp nhận"
    assert len(list(tmp_path.glob("*.eml"))) == 1
    assert all(port_is_closed(port) for port in ports)


async def _mails(http: httpx.AsyncClient, base: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = (await http.get(f"{base}/_control/mails")).json()
    return result


async def test_serve_standins_runs_until_cancelled(
    free_port: Callable[[], int], http: httpx.AsyncClient, wait_until: Any
) -> None:
    sms_port, backup_port, carrier_port, smtp_port, mailbox_port = (free_port() for _ in range(5))
    ready = asyncio.Event()
    task = asyncio.create_task(
        serve_standins(
            "127.0.0.1",
            sms_port,
            carrier_port,
            smtp_port,
            mailbox_port,
            sms_api_key="k1",
            carrier_api_key="k2",
            carrier_webhook_secret="s",
            mail_dir=None,
            ready=ready,
            sms_backup_port=backup_port,
            sms_backup_api_key="k3",
        )
    )
    await asyncio.wait_for(ready.wait(), timeout=10)
    backup = await http.post(
        f"http://127.0.0.1:{backup_port}/v1/sms",
        json={"sender": "MOTCUA", "phone": PHONE, "text": "Xin chào", "client_ref": "r-1", "callback_url": None},
        headers={"Authorization": "Bearer k3"},
    )

    response = await http.post(
        f"http://127.0.0.1:{sms_port}/v1/sms",
        json={"sender": "MOTCUA", "phone": PHONE, "text": "Xin chào", "client_ref": "r-1", "callback_url": None},
        headers={"Authorization": "Bearer k1"},
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)

    assert response.status_code == 202
    assert backup.status_code == 202
    assert all(port_is_closed(port) for port in (sms_port, backup_port, carrier_port, smtp_port, mailbox_port))


async def test_cli_serves_logs_json_without_personal_data_and_stops_on_sigint(
    free_port: Callable[[], int], http: httpx.AsyncClient, wait_until: Any, tmp_path: Path, receiver: Any
) -> None:
    ports = {name: free_port() for name in ("sms", "sms-backup", "carrier", "smtp", "mailbox-http")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "motcua_devstack.standins",
        *(arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))),
        "--mail-dir",
        str(tmp_path),
        "--mail-bounce-webhook-url",
        receiver.url,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        env=_env_importing_this_package(),
    )
    try:
        sms_url = f"http://127.0.0.1:{ports['sms']}"
        await wait_until(lambda: healthy(http, sms_url), timeout=15, message="CLI never became healthy")
        await wait_until(lambda: healthy(http, f"http://127.0.0.1:{ports['mailbox-http']}"), timeout=15)
        sent = await http.post(
            f"{sms_url}/v1/sms",
            json={"sender": "MOTCUA", "phone": PHONE, "text": "Xin chào", "client_ref": "cli-1", "callback_url": None},
            headers={"Authorization": "Bearer local-sms-key"},
        )
        listed = await http.get(f"{sms_url}/_control/messages", params={"phone": PHONE})
        backup_sent = await http.post(
            f"http://127.0.0.1:{ports['sms-backup']}/v1/sms",
            json={"sender": "MOTCUA", "phone": PHONE, "text": "Xin chào", "client_ref": "cli-1", "callback_url": None},
            headers={"Authorization": "Bearer local-sms-backup-key"},
        )
        mail = vietnamese_mail()
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=ports["smtp"], timeout=5)
        await wait_until(lambda: list(tmp_path.glob("*.eml")), message="no .eml written")
        await aiosmtplib.send(vietnamese_mail(UNKNOWN), hostname="127.0.0.1", port=ports["smtp"], timeout=5)
        await wait_until(lambda: receiver.accepted, timeout=15, message="no bounce webhook from the CLI")
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)

    assert sent.status_code == 202
    assert backup_sent.status_code == 202
    assert len(listed.json()) == 1
    assert receiver.accepted[0].json()["recipient"] == UNKNOWN
    assert process.returncode == 0
    log = stderr.decode()
    records = [json.loads(line) for line in log.splitlines()]
    messages = [record["msg"] for record in records]
    assert "stand-ins ready" in messages
    assert "sms accepted" in messages
    assert "mail received" in messages
    assert "mail bounced" in messages
    assert messages[-1] == "stand-ins stopped"
    assert PHONE not in log
    assert CITIZEN not in log
    assert UNKNOWN not in log


async def test_open_standins_passes_the_carrier_life(http: httpx.AsyncClient) -> None:
    config = StandinsConfig(
        sms_port=0,
        carrier_port=0,
        smtp_port=0,
        mailbox_http_port=0,
        carrier_auto_advance=True,
        carrier_step_delay_seconds=0.25,
        carrier_failure_rate=0.5,
        carrier_redelivery_delay_seconds=3.0,
    )

    async with open_standins(config) as running:
        life = (await http.get(f"{running.carrier.url}/_control/life")).json()
    async with open_standins(StandinsConfig(sms_port=0, carrier_port=0, smtp_port=0, mailbox_http_port=0)) as running:
        library_default = (await http.get(f"{running.carrier.url}/_control/life")).json()

    assert (life["auto_advance"], life["step_delay_seconds"]) == (True, 0.25)
    assert (life["failure_rate"], life["redelivery_delay_seconds"]) == (0.5, 3.0)
    assert library_default["auto_advance"] is False


async def test_the_backup_gateway_has_its_own_port_and_key(http: httpx.AsyncClient) -> None:
    body = {"sender": "MOTCUA", "phone": PHONE, "text": "Xin chào", "client_ref": "b-1", "callback_url": None}

    async with open_standins(StandinsConfig(**EPHEMERAL)) as running:
        main, backup = running.sms.url, running.sms_backup.url
        main_key_at_backup = await http.post(
            f"{backup}/v1/sms", json=body, headers={"Authorization": "Bearer local-sms-key"}
        )
        backup_key_at_main = await http.post(
            f"{main}/v1/sms", json=body, headers={"Authorization": "Bearer local-sms-backup-key"}
        )
        accepted = await http.post(
            f"{backup}/v1/sms", json=body, headers={"Authorization": "Bearer local-sms-backup-key"}
        )
        at_backup = (await http.get(f"{backup}/_control/messages")).json()
        at_main = (await http.get(f"{main}/_control/messages")).json()

    assert running.sms.port != running.sms_backup.port
    assert (main_key_at_backup.status_code, backup_key_at_main.status_code) == (401, 401)
    assert accepted.status_code == 202
    assert [message["client_ref"] for message in at_backup] == ["b-1"]
    assert at_main == []


async def test_open_standins_reports_bounces_to_the_configured_webhook(
    http: httpx.AsyncClient, wait_until: Any, receiver: Any
) -> None:
    config = StandinsConfig(**EPHEMERAL, mail_bounce_webhook_url=receiver.url)
    message = vietnamese_mail(UNKNOWN)
    message["Message-ID"] = "<bounce-1@notify.motcua.local>"

    async with open_standins(config) as running:
        await aiosmtplib.send(message, hostname="127.0.0.1", port=running.smtp_port, timeout=5)
        await wait_until(lambda: receiver.accepted, message="no bounce webhook")
        bounces = (await http.get(f"{running.mailbox_http.url}/_control/bounces")).json()

    event = receiver.accepted[0].json()
    assert (event["message_id"], event["recipient"], event["kind"]) == ("bounce-1@notify.motcua.local", UNKNOWN, "hard")
    assert [bounce["event_id"] for bounce in bounces] == [event["event_id"]]
