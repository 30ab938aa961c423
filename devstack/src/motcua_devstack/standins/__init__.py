"""Local stand-ins for motcua's outside parties: SMS gateways, postal carrier, SMTP mailbox.

Each is a real server on loopback; tests and the dev stack talk to them over
the network exactly as the product talks to the real parties. :func:`open_standins`
runs two SMS gateways (main and backup, each with its own API key), the carrier and
the mailbox, which bounces mail to ``*.invalid`` and configured addresses (a DSN mail
plus, optionally, a bounce webhook).
"""

from ._delivery import DeliveryPolicy
from .carrier import create_carrier_app, sign_webhook, verify_webhook
from .logs import configure_json_logging
from .mailbox import MailStore, create_mailbox_app, start_mailbox_smtp
from .runner import StandinsConfig, open_standins, serve_standins, start_http_server
from .sms_encoding import count_segments
from .sms_gateway import create_sms_gateway_app

__all__ = [
    "DeliveryPolicy",
    "MailStore",
    "StandinsConfig",
    "configure_json_logging",
    "count_segments",
    "create_carrier_app",
    "create_mailbox_app",
    "create_sms_gateway_app",
    "open_standins",
    "serve_standins",
    "sign_webhook",
    "start_http_server",
    "start_mailbox_smtp",
    "verify_webhook",
]
