"""``python -m motcua_devstack.standins``: run the SMS gateway, carrier and mailbox stand-ins."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence

from .logs import configure_json_logging
from .runner import StandinsConfig, serve_standins

logger = logging.getLogger("motcua_devstack.standins")


def build_parser() -> argparse.ArgumentParser:
    defaults = StandinsConfig()
    parser = argparse.ArgumentParser(
        prog="python -m motcua_devstack.standins",
        description="Local stand-ins for the SMS gateway, the postal carrier and an SMTP server.",
    )
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--sms-port", type=int, default=defaults.sms_port)
    parser.add_argument("--carrier-port", type=int, default=defaults.carrier_port)
    parser.add_argument("--smtp-port", type=int, default=defaults.smtp_port)
    parser.add_argument("--mailbox-http-port", type=int, default=defaults.mailbox_http_port)
    parser.add_argument("--sms-api-key", default=defaults.sms_api_key)
    parser.add_argument("--carrier-api-key", default=defaults.carrier_api_key)
    parser.add_argument("--carrier-webhook-secret", default=defaults.carrier_webhook_secret)
    parser.add_argument("--mail-dir", default=None, help="also write every received mail here as .eml")
    parser.add_argument("--log-level", default="INFO")
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
            carrier_api_key=args.carrier_api_key,
            carrier_webhook_secret=args.carrier_webhook_secret,
            mail_dir=args.mail_dir,
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
