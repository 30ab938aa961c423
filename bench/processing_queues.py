#!/usr/bin/env python3
"""Work-queue latency for one agency with 10,000 open steps and 100,000 closed cases.

Starts a FRESH SecantusDB on a free loopback port (no Kafka: the queues read the database only),
writes the cases with insert_many (open ones spread over the views: new, assigned to a few
specialists, waiting for approval, due soon, overdue; closed ones resolved), creates the service's
indexes, then times each queue view (first page of 50, with its total count) and prints p50/p95.
Nothing is asserted.

Usage: python bench/processing_queues.py [--open N] [--closed N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from motcua_devstack import servers
from motcua_kit.auth import Role
from motcua_kit.mongo import connect, ensure_indexes
from motcua_kit.settings import MongoSettings
from motcua_kit.uow import MongoUnitOfWork
from processing import store
from processing.domain.case import Actor
from processing.domain.workflow import queue_key
from processing.service.views import QUEUES, QueueQuery, work_queue

AGENCY = "000.00.13.H56"
OTHERS = ["000.00.45.H56", "000.00.41.H56", "000.16.22.H56"]
NOW = datetime.now(UTC)


def case(i: int, *, open_: bool, rng: random.Random) -> dict[str, object]:
    agency = AGENCY if open_ or rng.random() < 0.5 else rng.choice(OTHERS)
    if open_:
        status = rng.choice(["new", "assigned", "assigned", "submitted"])
        due = NOW + timedelta(hours=rng.uniform(-200, 400))
        case_status = "open"
    else:
        status, due, case_status = "done", NOW - timedelta(days=rng.uniform(1, 365)), "resolved"
    assignee = f"chuyenvien-{rng.randrange(20)}" if status in ("assigned", "submitted") else None
    step = {
        "position": 1,
        "agency_code": agency,
        "due_at": due,
        "status": status,
        "assignee": assignee,
        "work": [],
        "started_at": due - timedelta(days=10),
        "completed_at": None if open_ else due,
        "result": None if open_ else "on_time",
    }
    return {
        "_id": f"000.00.06.H56-26{i // 9999 % 100:02d}{i // 999 % 28 + 1:02d}-{i % 9999 + 1:04d}-{i}",
        "procedure": {"code": "1.012753.000.00.00.H56", "name": "Đăng ký đất đai", "field": "Đất đai", "version": 1},
        "centre_code": "000.00.06.H56",
        "competent_agency": agency,
        "status": case_status,
        "current_step": 1,
        "steps": [step],
        "current": {k: step[k] for k in ("position", "agency_code", "status", "assignee", "due_at")}
        | {"queue": queue_key(case_status, agency, status)},
        "received_at": due - timedelta(days=20),
        "deadline_at": due,
        "alerts": [],
        "apology": None,
        "history": [{"action": "opened", "at": due - timedelta(days=20), "by": "system", "agency": agency}],
    }


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        port = servers.free_port()
        mongo = servers.secantus(port, Path(tmp) / "mongo", Path(tmp) / "secantus.log")
        mongo.start()
        try:
            servers.wait_for_mongo(servers.mongo_url(port))
            client = connect(MongoSettings(url=servers.mongo_url(port), database="processing"))
            db = client["processing"]
            await ensure_indexes(db, store.INDEXES)
            started = time.perf_counter()
            total = args.open + args.closed
            docs = [case(i, open_=i < args.open, rng=rng) for i in range(total)]
            for n in range(0, total, 1000):
                await db[store.CASES].insert_many(docs[n : n + 1000], ordered=False)
            print(
                f"# wrote {args.open:,} open and {args.closed:,} closed cases in {time.perf_counter() - started:.1f}s"
            )
            uow = MongoUnitOfWork(client, db, store.Repositories, producer="bench")  # reads: no transaction
            leader = Actor(subject="chuyenvien-3", role=Role.AGENCY_OFFICER.value, agency=AGENCY)
            print(f"{'view':<10}{'total':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
            for view in QUEUES:
                times, count = [], 0
                for _ in range(args.runs):
                    t = time.perf_counter()
                    count, _page = await work_queue(QueueQuery(viewer=leader, view=view, limit=50), uow)
                    times.append((time.perf_counter() - t) * 1000)
                q = statistics.quantiles(times, n=20) if len(times) > 1 else times * 19
                print(f"{view:<10}{count:>8,}{statistics.median(times):>10.1f}{q[18]:>10.1f}{max(times):>10.1f}")
            await client.close()
        finally:
            mongo.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--closed", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
