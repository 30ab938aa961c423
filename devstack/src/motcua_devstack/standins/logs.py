"""One-JSON-object-per-line logging with personal data masked.

Stand-in code masks phone numbers and e-mail addresses itself, with the kit's
one rule (:func:`motcua_kit.values.mask_phone`, :func:`~motcua_kit.values.mask_email`);
the formatter redacts whatever still slips through in third-party messages
(uvicorn access lines with query strings, aiosmtpd), the same way.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from motcua_kit.values import mask_email, mask_phone

_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])(?:\+?84|0)[2-9]\d{8,9}(?![\w])")

_NOISY_LOGGERS = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "mail.log": logging.WARNING}


def redact(text: str) -> str:
    """Mask every e-mail address and Vietnamese phone number found in ``text``."""
    text = _EMAIL.sub(lambda match: mask_email(match.group(0).replace("%40", "@")), text)
    return _PHONE.sub(lambda match: mask_phone(match.group(0)), text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_value(item) for item in value]
    return value


class JsonLogFormatter(logging.Formatter):
    """Formats a record as one JSON object; structured data goes in ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                payload.setdefault(str(key), _redact_value(value))
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_json_logging(level: int | str = logging.INFO, stream: TextIO | None = None) -> None:
    """Route the root logger to ``stream`` (stderr by default) as JSON lines.

    Call this from entry points only; library code never configures logging.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name, noisy_level in _NOISY_LOGGERS.items():
        logging.getLogger(name).setLevel(noisy_level)
