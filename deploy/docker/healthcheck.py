#!/usr/bin/env python3
"""Container health probe for the motcua services (stdlib only: the slim image has no curl).

Usage: motcua-healthcheck [PATH]          PATH defaults to /health/live

The service comes from MOTCUA_SERVICE (set in the image), the port from the service's
own setting <SERVICE>_PORT (e.g. RECEPTION_PORT) and falls back to the fixed default
port of that service. Exit 0 when the endpoint answers 2xx within the timeout, else 1.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"reception": 8001, "processing": 8002, "postal": 8003, "notify": 8004}
TIMEOUT_S = float(os.environ.get("MOTCUA_HEALTHCHECK_TIMEOUT", "3"))


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/health/live"
    if not path.startswith("/"):
        path = "/" + path
    service = os.environ.get("MOTCUA_SERVICE", "").strip().lower()
    port = os.environ.get(f"{service.upper()}_PORT") or DEFAULT_PORTS.get(service)
    if not port:
        print(f"healthcheck: unknown service {service!r} and no port setting", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        print(f"healthcheck: {url} -> HTTP {exc.code}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"healthcheck: {url} -> {exc}", file=sys.stderr)
        return 1
    if 200 <= status < 300:
        return 0
    print(f"healthcheck: {url} -> HTTP {status}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
