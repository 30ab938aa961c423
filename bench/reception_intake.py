#!/usr/bin/env python3
"""Reception under load: counter intake (POST /dossiers) and citizen lookups (POST /lookup).

Starts FRESH local servers (Tansu, SecantusDB) and one reception process on free loopback ports,
seeds the demo province, then for 1, 10 and 50 concurrent clients sends a fixed number of
requests and prints requests per second and p50/p95/p99 latency. Nothing is asserted.

SecantusDB slows down as writes accumulate (see bench/README.md): the intake rows are run in
increasing concurrency on one server, so compare them with care; lookups are reads.

Usage: python bench/reception_intake.py [--requests-per-client 20] [--concurrency 1,10,50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import httpx

from motcua_devstack import servers
from motcua_kit.auth import Role, create_dev_keys, mint_token

CENTRE = "000.00.06.H56"
LAND = "1.012753.000.00.00.H56"


@dataclass
class Row:
    operation: str
    concurrency: int
    latencies: list[float]
    seconds: float
    errors: int

    def line(self) -> str:
        lat = sorted(self.latencies)
        q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0] * 1000] * 99
        p50, p95, p99 = (q[49] * 1000, q[94] * 1000, q[98] * 1000) if len(lat) >= 2 else (q[0],) * 3
        rps = len(lat) / self.seconds if self.seconds else 0
        return (
            f"{self.operation:<22}{self.concurrency:>6}{len(lat):>9}{self.seconds:>9.2f}{rps:>9.1f}"
            f"{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{self.errors:>8}"
        )


def intake_body() -> dict[str, object]:
    catalogue = json.loads(files("motcua_devstack").joinpath("seed/demo_province.json").read_text("utf-8"))
    procedure = next(p for p in catalogue["procedures"] if p["code"] == LAND)
    return {
        "procedure_code": LAND,
        "applicant": {
            "full_name": "Nguyễn Thị Hoa",
            "id_number": "056190001234",
            "phone": "0905123456",
            "email": "hoa@example.vn",
            "address": "12 Trần Phú, phường Nha Trang",
        },
        "documents": [
            {"name": d["name"], "originals": d["originals"], "copies": d["copies"]}
            for d in procedure["documents"]
            if d["mandatory"]
        ],
        "return_channel": "counter",
        "notify_channels": ["sms"],
    }


async def run(
    client: httpx.AsyncClient, concurrency: int, per_client: int, call: object
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0

    async def worker(n: int) -> None:
        nonlocal errors
        for i in range(per_client):
            started = time.perf_counter()
            ok = await call(client, n, i)  # type: ignore[operator]
            latencies.append(time.perf_counter() - started)
            errors += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return latencies, time.perf_counter() - started, errors


async def bench(args: argparse.Namespace, root: Path) -> list[Row]:
    ports = {name: servers.free_port() for name in ("kafka", "mongo", "reception")}
    kafka = servers.tansu(ports["kafka"], root / "tansu.log")
    mongo = servers.secantus(ports["mongo"], root / "mongo", root / "secantus.log")
    keys = root / "keys"
    create_dev_keys(keys)
    env = {
        **os.environ,
        "RECEPTION_PORT": str(ports["reception"]),
        "RECEPTION_MONGO__URL": servers.mongo_url(ports["mongo"]),
        "RECEPTION_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{ports['kafka']}",
        "RECEPTION_KAFKA__SESSION_TIMEOUT_MS": "2000",
        "RECEPTION_AUTH__JWKS_FILE": str(keys / "jwks.json"),
        "RECEPTION_AUTH__ISSUER": "motcua-local",
        "RECEPTION_LOG_LEVEL": "WARNING",
        "RECEPTION_LOOKUP_PER_CLIENT_PER_MINUTE": "100000000",
    }
    service = servers.LocalServer(
        "reception", ports["reception"], [sys.executable, "-m", "reception"], root / "reception.log", env=env
    )
    try:
        kafka.start()
        mongo.start()
        servers.wait_for_mongo(servers.mongo_url(ports["mongo"]))
        service.start(timeout=60)
        base = f"http://127.0.0.1:{ports['reception']}"
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
            deadline = time.monotonic() + 60
            while (await client.get("/health/ready")).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("reception not ready")
                await asyncio.sleep(0.2)
            admin = {"Authorization": "Bearer " + mint_token(keys, role=Role.CENTRE_ADMIN, scope=CENTRE)}
            catalogue = json.loads(files("motcua_devstack").joinpath("seed/demo_province.json").read_text("utf-8"))
            (await client.post("/catalogue/import", json=catalogue, headers=admin)).raise_for_status()
            officer = {"Authorization": "Bearer " + mint_token(keys, role=Role.COUNTER_OFFICER, scope=CENTRE)}
            body = intake_body()
            codes: list[str] = []

            async def intake(c: httpx.AsyncClient, n: int, i: int) -> bool:
                r = await c.post("/dossiers", json=body, headers=officer)
                if r.status_code == 201:
                    codes.append(r.json()["code"])
                return r.status_code == 201

            async def look_up(c: httpx.AsyncClient, n: int, i: int) -> bool:
                code = codes[(n * 7919 + i) % len(codes)]
                r = await c.post("/lookup", json={"code": code, "phone": "0905123456"})
                return r.status_code == 200

            rows = []
            for concurrency in args.concurrency:
                latencies, seconds, errors = await run(client, concurrency, args.requests_per_client, intake)
                rows.append(Row("POST /dossiers", concurrency, latencies, seconds, errors))
                print(rows[-1].line(), flush=True)
            for concurrency in args.concurrency:
                latencies, seconds, errors = await run(client, concurrency, args.requests_per_client, look_up)
                rows.append(Row("POST /lookup", concurrency, latencies, seconds, errors))
                print(rows[-1].line(), flush=True)
            return rows
    finally:
        for server in (service, mongo, kafka):
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests-per-client", type=int, default=10)
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 50])
    args = parser.parse_args()
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs; one reception process; fresh servers")
    print(
        f"{'operation':<22}{'conc':>6}{'requests':>9}{'seconds':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'errors':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    main()
