"""``python -m motcua_devstack.standins``: run the SMS gateways (main and backup), carrier and mailbox stand-ins."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import replace

from ._http import check_http_url
from .logs import configure_json_logging
from .runner import StandinsConfig, serve_standins

logger = logging.getLogger("motcua_devstack.standins")

CLI_DEFAULTS = replace(
    StandinsConfig(),
    carrier_auto_advance=True,
    carrier_step_delay_seconds=5.0,
    carrier_failure_rate=0.1,
    carrier_redelivery_delay_seconds=20.0,
)
"""Unlike the library defaults, parcels move by themselves (so ``motcua up`` shows them moving)."""


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, not {text}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _http_url(text: str) -> str:
    try:
        return check_http_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, not {text}") from exc


def _add_carrier_life_arguments(parser: argparse.ArgumentParser, defaults: StandinsConfig) -> None:
    group = parser.add_argument_group("carrier life", "how the carrier moves parcels by itself")
    group.add_argument(
        "--carrier-auto-advance",
        action=argparse.BooleanOptionalAction,
        default=defaults.carrier_auto_advance,
        help="play each new order's life by itself (on unless --no-carrier-auto-advance)",
    )
    group.add_argument(
        "--carrier-step-delay",
        type=_seconds,
        default=defaults.carrier_step_delay_seconds,
        metavar="SECONDS",
        help="wait between two steps (default: %(default)s)",
    )
    group.add_argument(
        "--carrier-failure-rate",
        type=_rate,
        default=defaults.carrier_failure_rate,
        metavar="RATE",
        help="probability (0..1) that one delivery attempt fails (default: %(default)s)",
    )
    group.add_argument(
        "--carrier-redelivery-delay",
        type=_seconds,
        default=defaults.carrier_redelivery_delay_seconds,
        metavar="SECONDS",
        help="wait after a failed attempt before going out again (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    defaults = CLI_DEFAULTS
    parser = argparse.ArgumentParser(
        prog="python -m motcua_devstack.standins",
        description="Local stand-ins for two SMS gateways, the postal carrier and an SMTP server.",
    )
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--sms-port", type=int, default=defaults.sms_port)
    parser.add_argument("--sms-backup-port", type=int, default=defaults.sms_backup_port)
    parser.add_argument("--carrier-port", type=int, default=defaults.carrier_port)
    parser.add_argument("--smtp-port", type=int, default=defaults.smtp_port)
    parser.add_argument("--mailbox-http-port", type=int, default=defaults.mailbox_http_port)
    parser.add_argument("--sms-api-key", default=defaults.sms_api_key)
    parser.add_argument("--sms-backup-api-key", default=defaults.sms_backup_api_key)
    parser.add_argument("--carrier-api-key", default=defaults.carrier_api_key)
    parser.add_argument("--carrier-webhook-secret", default=defaults.carrier_webhook_secret)
    parser.add_argument("--mail-dir", default=None, help="also write every received mail here as .eml")
    parser.add_argument(
        "--mail-bounce-webhook-url",
        type=_http_url,
        default=defaults.mail_bounce_webhook_url,
        metavar="URL",
        help="POST a JSON event here for every bounced recipient (default: no webhook)",
    )
    parser.add_argument("--log-level", default="INFO")
    _add_carrier_life_arguments(parser, defaults)
    return parser


async def _run(args: argparse.Namespace) -> None:
    main_task = asyncio.current_task()
    assert main_task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main_task.cancel)
    try:
        await serve_standins(
            args.host,
            args.sms_port,
            args.carrier_port,
            args.smtp_port,
            args.mailbox_http_port,
            sms_api_key=args.sms_api_key,
            sms_backup_port=args.sms_backup_port,
            sms_backup_api_key=args.sms_backup_api_key,
            mail_bounce_webhook_url=args.mail_bounce_webhook_url,
            carrier_api_key=args.carrier_api_key,
            carrier_webhook_secret=args.carrier_webhook_secret,
            mail_dir=args.mail_dir,
            carrier_auto_advance=args.carrier_auto_advance,
            carrier_step_delay_seconds=args.carrier_step_delay,
            carrier_failure_rate=args.carrier_failure_rate,
            carrier_redelivery_delay_seconds=args.carrier_redelivery_delay,
        )
    except asyncio.CancelledError:
        logger.info("stand-ins stopped")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_json_logging(args.log_level.upper())
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
