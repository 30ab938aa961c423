"""``motcua up`` without starting anything: ports, the services' environment, the stand-ins command, the banner."""

from __future__ import annotations

import inspect
from pathlib import Path

from motcua_devstack import launcher
from motcua_devstack.launcher import SERVICES, Ports, Stack
from motcua_devstack.standins.__main__ import build_parser


def stack(tmp_path: Path) -> Stack:
    return Stack(data_dir=tmp_path, ports=Ports(notify=18004, sms=18091, sms_backup=18094, mailbox=18093))


def test_ports_have_the_backup_sms_gateway() -> None:
    assert Ports().sms_backup == 8094
    assert inspect.signature(launcher.up).parameters["sms_backup_port"].default == 8094
    # Older positional construction still means what it meant.
    assert Ports(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) == Ports(
        kafka=1, mongo=2, reception=3, processing=4, postal=5, notify=6, sms=7, carrier=8, mailbox=9, smtp=10
    )


def test_notify_gets_both_sms_providers_receipt_urls_and_the_bounce_address(tmp_path: Path) -> None:
    env = stack(tmp_path).service_env("notify")

    assert env["NOTIFY_SMS__URL"] == "http://127.0.0.1:18091"
    assert env["NOTIFY_SMS__API_KEY"] == "local-sms-key"
    assert env["NOTIFY_SMS__RECEIPT_URL"] == "http://127.0.0.1:18004/callbacks/sms"
    assert env["NOTIFY_SMS_BACKUP__URL"] == "http://127.0.0.1:18094"
    assert env["NOTIFY_SMS_BACKUP__API_KEY"] == "local-sms-backup-key"
    assert env["NOTIFY_SMS_BACKUP__NAME"] == "sms_backup"
    assert env["NOTIFY_SMS_BACKUP__RECEIPT_URL"] == "http://127.0.0.1:18004/callbacks/sms"
    assert env["NOTIFY_SMTP__BOUNCE_ADDRESS"] == "bounces@motcua.local"
    assert env["NOTIFY_PORT"] == "18004"


def test_other_services_get_no_sms_or_smtp_settings(tmp_path: Path) -> None:
    for name in SERVICES:
        if name != "notify":
            env = stack(tmp_path).service_env(name)
            assert not [key for key in env if "SMS" in key or "SMTP" in key], name


def test_the_standins_command_is_what_the_standins_cli_understands(tmp_path: Path) -> None:
    command = stack(tmp_path).standins_command()
    assert command[1:3] == ["-m", "motcua_devstack.standins"]

    args = build_parser().parse_args(command[3:])

    assert (args.sms_port, args.sms_api_key) == (18091, "local-sms-key")
    assert (args.sms_backup_port, args.sms_backup_api_key) == (18094, "local-sms-backup-key")
    assert args.mailbox_http_port == 18093
    assert args.mail_bounce_webhook_url == "http://127.0.0.1:18004/callbacks/email-bounces"
    assert args.mail_dir == str(tmp_path / "mail")


def test_the_banner_shows_the_backup_gateway_and_the_bounces(tmp_path: Path) -> None:
    from motcua_kit.auth import create_dev_keys

    running = stack(tmp_path)
    create_dev_keys(running.keys)

    banner = running.banner()

    assert "SMS gateway (backup) http://127.0.0.1:18094/_control/messages" in banner
    assert "http://127.0.0.1:18093/_control/bounces" in banner
