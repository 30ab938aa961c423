#!/usr/bin/env python3
"""Notify under a burst: N received dossiers, each owed an SMS and an e-mail, from the broker to the providers.

Starts FRESH local servers (Tansu, SecantusDB) and the stand-ins (SMS gateway, SMTP mailbox, in a
process of their own) on free loopback ports, runs notify in this process (its ``create_app`` with
settings pointed at them, as the integration tests do), publishes N ``DossierReceived`` events as
reception's relay would, then waits until a ``NotificationSent`` has come for every notification, or a
deadline. Prints notifications per second and the event-to-provider latency p50/p95/p99, from the
event's ``occurred_at`` (the notification's ``trigger_occurred_at``) to ``sent_at``, split into
event -> recorded (the consumer) and recorded -> sent (the sender). Nothing is asserted.

Notify's own defaults apply (sender poll 0.5 s, provider rate limits), except quiet hours, which are
switched off: at night they would hold every SMS until 07:00.

Usage: python bench/notify_throughput.py [--dossiers 300] [--deadline 300] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from motcua_devstack import servers
from motcua_devstack.testing import sample_dossier_received
from motcua_kit.auth import create_dev_keys
from motcua_kit.events import Envelope, NotificationSent
from motcua_kit.events.topics import NOTIFY_NOTIFICATIONS
from notify import store
from notify.main import create_app
from notify.settings import NotifySettings

DAY = datetime.now().strftime("%y%m%d")


def settings_for(ports: dict[str, int], root: Path, args: argparse.Namespace) -> NotifySettings:
    rates: dict[str, dict[str, int]] = {"sms": {}, "smtp": {}}
    if args.sms_per_second:
        rates["sms"]["max_per_second"] = args.sms_per_second
    if args.email_per_second:
        rates["smtp"]["max_per_second"] = args.email_per_second
    return NotifySettings.model_validate(
        {
            "log_level": "WARNING",
            "mongo": {"url": servers.mongo_url(ports["mongo"]), "database": "notify_bench"},
            "kafka": {"bootstrap_servers": f"127.0.0.1:{ports['kafka']}", "session_timeout_ms": 2000},
            "auth": {"jwks_file": str(root / "keys" / "jwks.json"), "issuer": "motcua-local"},
            "sms": {"url": f"http://127.0.0.1:{ports['sms']}", **rates["sms"]},
            "smtp": {"port": ports["smtp"], **rates["smtp"]},
            "quiet_hours": {"enabled": False},
            **({"sender_concurrency": args.concurrency} if args.concurrency else {}),
        }
    )


async def publish(bootstrap: str, n: int) -> tuple[float, float]:
    """Publishes ``n`` DossierReceived events (SMS and e-mail chosen); returns when it started and ended."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        started = time.perf_counter()
        sends = []
        for i in range(n):
            event = sample_dossier_received(dossier_code=f"000.00.06.H56-{DAY}-{i + 1:04d}")
            envelope = Envelope(
                event_type=event.event_type,
                schema_version=event.schema_version,
                correlation_id=uuid.uuid4().hex,
                producer="reception",
            )
            sends.append(
                await producer.send(
                    event.topic,
                    event.model_dump_json().encode(),
                    key=event.key.encode(),
                    headers=envelope.to_headers(),
                )
            )
        await asyncio.gather(*sends)
        return started, time.perf_counter()
    finally:
        await producer.stop()


async def wait_sent(bootstrap: str, topic: str, expected: int, deadline: float) -> int:
    """Reads ``NotificationSent`` off notify's topic until ``expected`` distinct notifications (or the deadline).

    The broker, not the database, is watched: polling SecantusDB would compete with the sender for it.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        sent: set[str] = set()
        while len(sent) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if Envelope.from_headers(record.headers).event_type == "NotificationSent":
                        sent.add(NotificationSent.model_validate_json(record.value).notification_id)
        return len(sent)
    finally:
        await consumer.stop()


def quantiles_ms(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        only = values[0] * 1000 if values else float("nan")
        return only, only, only
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49] * 1000, q[94] * 1000, q[98] * 1000


async def bench(args: argparse.Namespace, root: Path) -> None:
    ports = {name: servers.free_port() for name in ("kafka", "mongo", "sms", "smtp", "carrier", "mailbox")}
    kafka = servers.tansu(ports["kafka"], root / "tansu.log")
    mongo = servers.secantus(ports["mongo"], root / "mongo", root / "secantus.log")
    standins = servers.LocalServer(
        "standins",
        ports["sms"],  # the SMS gateway starts last: once it answers, the others do too
        [
            sys.executable,
            "-m",
            "motcua_devstack.standins",
            *("--sms-port", str(ports["sms"]), "--smtp-port", str(ports["smtp"])),
            *("--carrier-port", str(ports["carrier"]), "--mailbox-http-port", str(ports["mailbox"])),
            *("--log-level", "WARNING"),
        ],
        root / "standins.log",
    )
    create_dev_keys(root / "keys")
    try:
        kafka.start()
        mongo.start()
        standins.start()
        servers.wait_for_mongo(servers.mongo_url(ports["mongo"]))
        settings = settings_for(ports, root, args)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            rt = app.state.rt
            joined_by = time.monotonic() + 60
            while not all(c.joined for c in rt.event_consumers):
                if time.monotonic() > joined_by:
                    raise RuntimeError("notify's consumer did not join its group")
                await asyncio.sleep(0.1)
            expected = 2 * args.dossiers
            bootstrap = f"127.0.0.1:{ports['kafka']}"
            started, published = await publish(bootstrap, args.dossiers)
            sent = await wait_sent(bootstrap, NOTIFY_NOTIFICATIONS, expected, time.monotonic() + args.deadline)
            waited = time.perf_counter() - started
            fields = {"channel": 1, "status": 1, "trigger_occurred_at": 1, "created_at": 1, "sent_at": 1}
            everything = await rt.db[store.NOTIFICATIONS].find({}, fields).to_list(None)
    finally:
        for server in (standins, mongo, kafka):
            server.stop()
    report(args, everything, sent, expected, published - started, waited)


def report(
    args: argparse.Namespace, everything: list[Any], sent: int, expected: int, publishing: float, waited: float
) -> None:
    docs = [d for d in everything if d.get("sent_at")]
    statuses: dict[str, int] = {}
    for d in everything:
        statuses[d["status"]] = statuses.get(d["status"], 0) + 1
    first = min((d["trigger_occurred_at"] for d in docs), default=None)
    last = max((d["sent_at"] for d in docs), default=None)
    span = (last - first).total_seconds() if first and last else waited
    print(f"dossiers published      {args.dossiers:>8}   in {publishing:.2f} s")
    print(f"notifications sent      {sent:>8} / {expected}   statuses now: {dict(sorted(statuses.items()))}")
    print(f"first event to last send{span:>9.2f} s   {len(docs) / span if span else 0:,.1f} notifications/s")
    print(f"{'latency':<30}{'count':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    rows: list[tuple[str, list[float]]] = [
        (
            f"event -> provider, {channel or 'all'}",
            [_seconds(d, "trigger_occurred_at", "sent_at") for d in docs if channel is None or d["channel"] == channel],
        )
        for channel in ("sms", "email", None)
    ]
    rows.append(
        ("event -> recorded (consumer)", [_seconds(d, "trigger_occurred_at", "created_at") for d in everything])
    )
    rows.append(("recorded -> provider (sender)", [_seconds(d, "created_at", "sent_at") for d in docs]))
    for name, latencies in rows:
        p50, p95, p99 = quantiles_ms(latencies)
        top = max(latencies, default=float("nan")) * 1000
        print(f"  {name:<28}{len(latencies):>7}{p50:>10.0f}{p95:>10.0f}{p99:>10.0f}{top:>10.0f}")
    if sent < expected:
        print(f"# deadline of {args.deadline:.0f} s reached before every notification was sent")


def _seconds(doc: Any, start: str, end: str) -> float:
    return float((doc[end] - doc[start]).total_seconds())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=300, help="DossierReceived events, 2 messages each")
    parser.add_argument("--deadline", type=float, default=300, help="seconds to wait for every send")
    parser.add_argument("--concurrency", type=int, default=None, help="override notify's sender concurrency")
    parser.add_argument("--sms-per-second", type=int, default=None, help="override notify's SMS rate limit")
    parser.add_argument("--email-per-second", type=int, default=None, help="override notify's e-mail rate limit")
    args = parser.parse_args()
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs; notify in-process; fresh servers")
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    main()
