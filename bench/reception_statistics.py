#!/usr/bin/env python3
"""How long reception's periodic statistics report (II.06a) takes over a year of dossiers.

The script starts a FRESH SecantusDB (MongoDB wire protocol) on a free loopback port, as
raw_throughput.py does (no Kafka: the report reads the database only), writes a year of realistic
register documents (by default 100,000: a dozen centres, the demo province's procedures, the three
channels, every status, ratings) with ``insert_many`` in batches, creates the service's indexes,
times each report once, creates the indexes the report asks for (``REPORT_INDEXES``), shows the
query plans, then times each report again, 3 runs, and prints min and median. It asserts nothing.

Reports timed (``reception.service.reports.period_report``, the function behind the API):
  one month by centre           auditor, the whole province
  one quarter by field          auditor
  one year by procedure         auditor, the year the data covers (reads nearly every dossier)
  a centre's month by field     centre admin of the province centre

SecantusDB is a development stand-in (a single Python process) and gets slower as writes
accumulate: compare ratios within one run, not absolute figures with a real MongoDB.

Usage:  python bench/reception_statistics.py [--docs N] [--batch N] [--runs N] [--keep-logs]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from motcua_devstack import servers
from motcua_devstack.testing import seed_catalogue
from motcua_kit.auth import Principal, Role
from motcua_kit.mongo import ensure_indexes
from motcua_kit.uow import MongoUnitOfWork
from motcua_worktime import WorkCalendar
from reception import store
from reception.domain.catalogue import CatalogueImport, Procedure
from reception.domain.dossier import ApplicantInfo, Dossier, DossierDraft, SubmittedDocument, appointment_for
from reception.domain.statistics import PeriodReport
from reception.service.reports import period_report
from reception.store import REPORT_INDEXES, REPORT_PROJECTION, report_queries

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_DAY = date(2025, 12, 1)
LAST_DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 17, 0, tzinfo=VN)  # the register as it stands at the end of the year
PROVINCE_CENTRE = "000.00.06.H56"
COMMUNES = ("Ninh Hòa", "Diên Khánh", "Cam Lâm", "Vạn Ninh", "Khánh Vĩnh", "Khánh Sơn", "Trường Sa", "Bắc Cam Ranh")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ")
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Hoa", "Hùng", "Lan", "Linh", "Nam", "Phương", "Quân", "Thảo", "Trang", "Tuấn")
STREETS = ("Trần Phú", "Lê Thánh Tôn", "Yersinia", "Hùng Vương", "Nguyễn Thị Minh Khai", "Thống Nhất", "2 Tháng 4")
RATINGS = (("very_satisfied", 50), ("satisfied", 37), ("not_satisfied", 13))


# ---------------------------------------------------------------------------
# a year of register documents
# ---------------------------------------------------------------------------
class Province:
    """The demo province's catalogue plus commune centres, and a random but reproducible year."""

    def __init__(self, seed: int) -> None:
        catalogue = CatalogueImport.model_validate(seed_catalogue())
        self.calendar = WorkCalendar.from_config(catalogue.calendar_config())
        self.procedures = list(catalogue.procedures)
        # civil status and certification are the bulk of a commune's work; land is rarer but long
        self.procedure_weights = [
            {"Hộ tịch": 12, "Chứng thực": 14, "Đất đai": 4, "Lý lịch tư pháp": 5}.get(p.field, 3)
            for p in self.procedures
        ]
        self.centres = [(c.code, c.name) for c in catalogue.centres] + [
            (f"000.{40 + i:02d}.{30 + i:02d}.H56", f"Trung tâm Phục vụ hành chính công xã {name}")
            for i, name in enumerate(COMMUNES)
        ]
        self.centre_weights = [10 if code == PROVINCE_CENTRE else 3 for code, _ in self.centres]
        self.working_days = [
            d
            for d in (FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1))
            if self.calendar.is_working_day(d)
        ]
        self.rnd = random.Random(seed)
        self.sequences: dict[str, int] = {}

    def dossiers(self, n: int) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            yield self.dossier()

    def dossier(self) -> dict[str, Any]:
        rnd = self.rnd
        procedure = rnd.choices(self.procedures, self.procedure_weights)[0]
        centre = rnd.choices(self.centres, self.centre_weights)[0]
        channel = self._channel(procedure)
        at = datetime.combine(rnd.choice(self.working_days), datetime.min.time(), VN) + timedelta(
            minutes=rnd.randrange(7 * 60, 17 * 60)
        )
        doc = self._new(centre, procedure, channel, at)
        decision = rnd.random()
        if decision < 0.03:
            self._refuse(doc, at + timedelta(minutes=rnd.randrange(5, 90)))
        elif decision < 0.04 and channel != 1 and NOW - at < timedelta(days=4):
            pass  # submitted, waiting for an officer
        else:
            self._receive(doc, procedure, at)
            self._life(doc)
        return doc

    def _channel(self, procedure: Procedure) -> int:
        channels, weights = [1, 2], [50, 40 if procedure.online_level == "full" else 15]
        if procedure.postal_intake:
            channels.append(3)
            weights.append(10)
        return self.rnd.choices(channels, weights)[0]

    def _new(self, centre: tuple[str, str], procedure: Procedure, channel: int, at: datetime) -> dict[str, Any]:
        rnd = self.rnd
        key = f"{centre[0]}-{at:%y%m%d}"
        seq = self.sequences[key] = self.sequences.get(key, 0) + 1
        code = f"{key}-{seq:04d}"
        name = f"{rnd.choice(FAMILY)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
        officer = f"officer-{centre[0]}-{rnd.randrange(1, 6)}"
        return_channel: Literal["counter", "post"] = "post" if channel == 3 or rnd.random() < 0.1 else "counter"
        notify: tuple[Literal["sms", "email"], ...] = ("sms", "email") if rnd.random() < 0.3 else ("sms",)
        applicant = ApplicantInfo(
            full_name=name,
            id_number=f"0561{rnd.randrange(10**8):08d}",
            phone=f"09{rnd.randrange(10**8):08d}",
            email=None,
            address=f"{rnd.randrange(1, 300)} {rnd.choice(STREETS)}, tỉnh Khánh Hòa",
        )
        draft = DossierDraft(
            procedure_code=procedure.code,
            applicant=applicant,
            documents=tuple(
                SubmittedDocument(d.name, d.originals, d.copies) for d in procedure.documents if d.mandatory
            ),
            content=procedure.name,
            return_channel=return_channel,
            notify_channels=notify,
        )
        # The register's one mapping (reception.store), so the benchmark reads what intake writes.
        doc = store.document_of(
            Dossier.register(
                code=code,
                centre_code=centre[0],
                centre_name=centre[1],
                procedure=procedure,
                procedure_version=1,
                draft=draft,
                channel=channel,
                at=at,
                by=officer,
                by_name=None,
                lookup_base_url="https://dichvucong.khanhhoa.gov.vn/lookup",
                lookup_code="".join(rnd.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=8)),
                pickup_id=f"VNP-{code}" if channel == 3 else None,
            )
        )
        if channel != 1:
            self._step(doc, 1, at, "citizen" if channel == 2 else "postal", "Nộp hồ sơ")
        return doc

    def _refuse(self, doc: dict[str, Any], at: datetime) -> None:
        doc.update(refused_at=at, refusal_reasons=["Hồ sơ không đủ thành phần theo quy định"])
        self._step(doc, 3, at, doc["received_by"] or "officer", "Từ chối tiếp nhận")

    def _receive(self, doc: dict[str, Any], procedure: Procedure, at: datetime) -> None:
        appointment = appointment_for(self.calendar, procedure, at, online=doc["intake_channel"] == 2)
        doc.update(
            received_at=at,
            clock_started_at=appointment.clock_started_at,
            appointment_at=appointment.appointment_at,
            original_appointment_at=appointment.appointment_at,
            limit_working_hours=appointment.limit_working_hours,
        )
        self._step(doc, 2, at, doc["received_by"] or "officer", "Tiếp nhận hồ sơ")

    def _life(self, doc: dict[str, Any]) -> None:
        """What happened after receipt, up to NOW: processing, then an end or still open."""
        rnd = self.rnd
        received, due = doc["received_at"], doc["appointment_at"]
        span = due - received
        self._step(doc, 4, received + timedelta(minutes=30), "processing", "Chuyển xử lý")
        fate = rnd.random()
        if fate < 0.02:
            self._end(doc, 7, "withdrawn_at", received + span * rnd.uniform(0.1, 0.6), "Công dân rút hồ sơ")
            return
        if fate < 0.03:
            self._end(doc, 8, "stopped_at", received + span * rnd.uniform(0.2, 0.9), "Dừng xử lý")
            return
        quality = rnd.random()  # 70 % early, 20 % on the appointment's day, 10 % late
        if quality < 0.7:
            resolved = received + span * rnd.uniform(0.2, 0.95)
        elif quality < 0.9:
            resolved = datetime.combine(due.astimezone(VN).date(), datetime.min.time(), VN) + timedelta(hours=16)
        else:
            resolved = due + timedelta(days=rnd.uniform(1, 12))
        if not self._end(doc, 9, "resolved_at", resolved, "Đã xử lý xong"):
            doc["status"] = rnd.choice((4, 4, 4, 5, 6))
            return
        returned = resolved + timedelta(days=rnd.uniform(0.1, 6))
        if self._end(doc, 10, "returned_at", returned, "Trả kết quả") and rnd.random() < 0.35:
            rated_at = returned + timedelta(days=rnd.uniform(0, 7))
            if rated_at <= NOW:
                level = rnd.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
                doc["rating"] = {"overall": level, "criteria": {"time": level, "attitude": level}, "rated_at": rated_at}

    def _end(self, doc: dict[str, Any], status: int, field: str, at: datetime, note: str) -> bool:
        if at > NOW:
            return False
        doc[field] = at
        self._step(doc, status, at, "processing", note)
        return True

    @staticmethod
    def _step(doc: dict[str, Any], status: int, at: datetime, by: str, note: str) -> None:
        doc["status"] = status
        doc["history"].append({"status": status, "at": at, "by": by, "agency": doc["competent_agency"], "note": note})


async def insert(db: AsyncDatabase[dict[str, Any]], province: Province, total: int, batch: int) -> None:
    t0 = time.perf_counter()
    written, next_report = 0, 10_000
    dossiers = province.dossiers(total)
    while written < total:
        docs = [next(dossiers) for _ in range(min(batch, total - written))]
        await db[store.DOSSIERS].insert_many(docs, ordered=False)
        written += len(docs)
        if written >= next_report or written == total:
            elapsed = time.perf_counter() - t0
            print(f"  inserted {written:>7,} / {total:,}  {elapsed:6.1f}s  {written / elapsed:,.0f} docs/s", flush=True)
            next_report += 10_000


# ---------------------------------------------------------------------------
# the reports
# ---------------------------------------------------------------------------
AUDITOR = Principal(subject="bench-auditor", role=Role.AUDITOR, scope="H56")
ADMIN = Principal(subject="bench-admin", role=Role.CENTRE_ADMIN, scope=PROVINCE_CENTRE)


@dataclass(frozen=True)
class Case:
    name: str
    viewer: Principal
    period_from: date
    period_to: date
    by: str

    def run(self, db: AsyncDatabase[dict[str, Any]]) -> Awaitable[PeriodReport]:
        uow = MongoUnitOfWork(db.client, db, store.Repositories, producer="bench")  # reads only: no transaction
        return period_report(
            uow, viewer=self.viewer, period_from=self.period_from, period_to=self.period_to, by=self.by
        )

    def scope(self) -> dict[str, str]:
        return {"centre_code": self.viewer.scope} if self.viewer.role is not Role.AUDITOR else {}


CASES = (
    Case("one month by centre", AUDITOR, date(2026, 10, 1), date(2026, 10, 31), "centre"),
    Case("one quarter by field", AUDITOR, date(2026, 7, 1), date(2026, 9, 30), "field"),
    Case("one year by procedure", AUDITOR, FIRST_DAY, LAST_DAY, "procedure"),
    Case("a centre's month by field", ADMIN, date(2026, 10, 1), date(2026, 10, 31), "field"),
)


async def timed(db: AsyncDatabase[dict[str, Any]], case: Case, runs: int) -> tuple[list[float], PeriodReport]:
    times, report = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        report = await case.run(db)
        times.append(time.perf_counter() - t0)
    assert report is not None
    return times, report


def queries(case: Case) -> list[dict[str, Any]]:
    start = datetime.combine(case.period_from, datetime.min.time(), VN)
    end = datetime.combine(case.period_to + timedelta(days=1), datetime.min.time(), VN)
    return report_queries(case.scope(), start, end)


QUERY_NAMES = ("received in period", "open, not resolved", "resolved since start", "rated in period")


async def breakdown(db: AsyncDatabase[dict[str, Any]], case: Case) -> list[tuple[int, float]]:
    """Documents each of the report's queries returns, and how long reading them takes."""
    out = []
    for query in queries(case):
        t0, n = time.perf_counter(), 0
        async for _ in db[store.DOSSIERS].find(query, REPORT_PROJECTION):
            n += 1
        out.append((n, time.perf_counter() - t0))
    return out


def print_table(rows: Sequence[tuple[str, ...]], headers: tuple[str, ...]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)).rstrip()

    print(fmt(headers))
    print(fmt(tuple("-" * w for w in widths)))
    for row in rows:
        print(fmt(row))


async def bench(args: argparse.Namespace, url: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    try:
        db = client["bench_reception_statistics"]
        await ensure_indexes(db, store.INDEXES)  # the service's own, present while dossiers arrive
        print(f"writing {args.docs:,} dossiers, {args.batch} per insert_many (service indexes in place)")
        await insert(db, Province(args.seed), args.docs, args.batch)

        baseline: dict[str, float] = {}
        if args.baseline:
            for case in CASES:
                times, _ = await timed(db, case, 1)
                baseline[case.name] = times[0]
        t0 = time.perf_counter()
        await ensure_indexes(db, REPORT_INDEXES)
        print(f"\nreport indexes built in {time.perf_counter() - t0:.1f}s over the written dossiers: {_index_names()}")

        print("\nwhat each query of the report reads (documents / seconds, one run):")
        split = []
        for case in CASES:
            parts = await breakdown(db, case)
            split.append((case.name, *(f"{n:,} / {t:.2f}" for n, t in parts), f"{sum(n for n, _ in parts):,}"))
        print_table(split, ("report", *QUERY_NAMES, "docs read"))

        rows = []
        for case in CASES:
            times, report = await timed(db, case, args.runs)
            total = report.total
            rows.append(
                (
                    case.name,
                    case.by,
                    str(len(report.rows)),
                    f"{total.received.total:,}",
                    f"{total.resolved.total:,}",
                    f"{total.in_progress.total:,}",
                    "-" if total.on_time_rate is None else f"{total.on_time_rate:.2%}",
                    "-" if total.satisfaction_rate is None else f"{total.satisfaction_rate:.2%}",
                    *([f"{baseline[case.name]:.2f}"] if baseline else []),
                    f"{min(times):.2f}",
                    f"{statistics.median(times):.2f}",
                )
            )
        print(f"\nperiod_report, {args.runs} runs each with REPORT_INDEXES:")
        headers = (
            "report",
            "by",
            "rows",
            "received",
            "resolved",
            "in progress",
            "on time",
            "satisfied",
            *(["no idx s"] if baseline else []),
            "min s",
            "median s",
        )
        print_table(rows, headers)
        if baseline:
            print("(no idx s: one run before REPORT_INDEXES existed, with the service's indexes only)")
    finally:
        await client.close()


def _index_names() -> str:
    return ", ".join(str(m.document["name"]) for spec in REPORT_INDEXES for m in spec.models)


# ---------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=100_000, help="dossiers to write")
    p.add_argument("--batch", type=int, default=1_000, help="documents per insert_many")
    p.add_argument("--runs", type=int, default=3, help="timed runs per report")
    p.add_argument("--seed", type=int, default=2026, help="random seed of the generated year")
    p.add_argument("--baseline", action="store_true", help="also time each report once before REPORT_INDEXES")
    p.add_argument("--startup-timeout", type=float, default=30.0, help="seconds")
    p.add_argument("--keep-logs", action="store_true", help="keep the temp dir with the server's data and log")
    args = p.parse_args(argv)
    for name in ("docs", "batch", "runs"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def _term(signum: int, _frame: object) -> None:  # SIGTERM -> SystemExit: the finally stops the server
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _term)
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-stats-"))
    port = servers.free_port()
    mongo = servers.secantus(port, workdir / "secantus-data", workdir / "secantus.log")
    t_total = time.perf_counter()
    ok = False
    try:
        t0 = time.perf_counter()
        mongo.start(timeout=args.startup_timeout)
        url = servers.mongo_url(port)
        servers.wait_for_mongo(url, args.startup_timeout)
        ready = time.perf_counter() - t0
        print(f"# python {sys.version.split()[0]}; secantusdb on 127.0.0.1:{port}, ready in {ready:.2f}s")
        asyncio.run(bench(args, url))
        print(f"\ntotal wall time {time.perf_counter() - t_total:.1f}s")
        ok = True
        return 0
    finally:
        mongo.stop()
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"server data and log in {workdir}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
