"""The periodic report over register documents written straight into the service's database."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from motcua_devstack.testing import LocalStack, running_app, seed_catalogue, token
from motcua_kit.mongo import ensure_indexes
from motcua_worktime import WorkCalendar
from reception import store
from reception.domain.catalogue import CatalogueImport, Procedure
from reception.domain.dossier import ApplicantInfo, Dossier, DossierDraft, SubmittedDocument, appointment_for
from reception.main import create_app
from reception.service.reports import CSV_HEADERS, REPORT_INDEXES
from reception.settings import ReceptionSettings

pytestmark = pytest.mark.integration

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PROVINCE = "000.00.06.H56"
NHA_TRANG = "000.17.22.H56"
BIRTH = "1.001193.000.00.00.H56"  # Hộ tịch, 1 working day
LAND = "1.012753.000.00.00.H56"  # Đất đai, 20 working days, province level
COMMUNE_LAND = "1.013978.000.00.00.H56"  # Đất đai, 20 working days, commune level
CRIMINAL_RECORD = "3.000333.000.00.00.H56"  # Lý lịch tư pháp, 10 working days
OCTOBER = {"date_from": "2026-10-01", "date_to": "2026-10-31"}


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


class Register:
    """Writes register documents the way reception's intake and event handlers leave them."""

    def __init__(self) -> None:
        catalogue = CatalogueImport.model_validate(seed_catalogue())
        self.calendar = WorkCalendar.from_config(catalogue.calendar_config())
        self.procedures = {p.code: p for p in catalogue.procedures}
        self.centres = {c.code: c.name for c in catalogue.centres}
        self.sequences: dict[str, int] = {}
        self.docs: list[dict[str, Any]] = []

    def dossier(
        self,
        centre: str,
        procedure_code: str,
        *,
        channel: int,
        at: datetime,
        status: int,
        resolved: datetime | None = None,
        returned: datetime | None = None,
        withdrawn: datetime | None = None,
        refused: datetime | None = None,
        rating: tuple[str, datetime] | None = None,
    ) -> dict[str, Any]:
        procedure = self.procedures[procedure_code]
        doc = self._new(centre, procedure, channel, at)
        history = doc["history"]
        if channel != 1:
            history.append(_step(1, at, "citizen", centre, "Nộp hồ sơ trực tuyến"))
        if refused is not None:
            doc.update(status=3, refused_at=refused, refusal_reasons=["Hồ sơ không thuộc thẩm quyền tiếp nhận"])
            history.append(_step(3, refused, "officer-1", centre, "Hồ sơ không thuộc thẩm quyền tiếp nhận"))
        elif status != 1:
            self._receive(doc, procedure, at)
        for code, when, note, key in (
            (9, resolved, "Đã xử lý xong", "resolved_at"),
            (10, returned, "Trả kết quả tại quầy", "returned_at"),
            (7, withdrawn, "Công dân xin rút hồ sơ", "withdrawn_at"),
        ):
            if when is not None:
                doc[key] = when
                history.append(_step(code, when, "officer-1", procedure.competent_agency, note))
        if rating is not None:
            doc["rating"] = {"overall": rating[0], "criteria": {"time": rating[0]}, "rated_at": rating[1]}
        doc["status"] = status
        self.docs.append(doc)
        return doc

    def _new(self, centre: str, procedure: Procedure, channel: int, at: datetime) -> dict[str, Any]:
        day = at.astimezone(VN).strftime("%y%m%d")
        seq = self.sequences[f"{centre}-{day}"] = self.sequences.get(f"{centre}-{day}", 0) + 1
        code = f"{centre}-{day}-{seq:04d}"
        name = "Trần Văn Bình"
        applicant = ApplicantInfo(
            full_name=name,
            id_number="056190004321",
            phone="0905765432",
            email=None,
            address="45 Lê Thánh Tôn, phường Nha Trang, tỉnh Khánh Hòa",
        )
        draft = DossierDraft(
            procedure_code=procedure.code,
            applicant=applicant,
            documents=tuple(
                SubmittedDocument(d.name, d.originals, d.copies) for d in procedure.documents if d.mandatory
            ),
            content=procedure.name,
            notify_channels=("sms",),
        )
        # The one mapping intake uses (the repository's), so the report reads what intake writes.
        return store.document_of(
            Dossier.register(
                code=code,
                centre_code=centre,
                centre_name=self.centres[centre],
                procedure=procedure,
                procedure_version=1,
                draft=draft,
                channel=channel,
                at=at,
                by="officer-1",
                by_name="Phạm Thị Lan",
                lookup_base_url="http://127.0.0.1:8001/lookup",
                lookup_code="K7M2Q9XA",
                # only postal intake carries a pickup (the unique sparse index must not see nulls)
                pickup_id=f"pickup-{code}" if channel == 3 else None,
            )
        )

    def _receive(self, doc: dict[str, Any], procedure: Procedure, at: datetime) -> None:
        appointment = appointment_for(self.calendar, procedure, at, online=doc["intake_channel"] == 2)
        doc.update(
            received_at=at,
            clock_started_at=appointment.clock_started_at,
            appointment_at=appointment.appointment_at,
            original_appointment_at=appointment.appointment_at,
            limit_working_hours=appointment.limit_working_hours,
            received_by="officer-1",
        )
        doc["history"].append(_step(2, at, "officer-1", doc["centre_code"], "Tiếp nhận hồ sơ"))


def _step(status: int, at: datetime, by: str, agency: str, note: str) -> dict[str, Any]:
    return {"status": status, "at": at, "by": by, "agency": agency, "note": note}


def october_register() -> list[dict[str, Any]]:
    r = Register()
    # The province centre.
    r.dossier(  # Mon 5/10, due Tue 6/10: resolved the day before, returned, rated in October
        PROVINCE,
        BIRTH,
        channel=1,
        at=at(10, 5),
        status=10,
        resolved=at(10, 5, 15),
        returned=at(10, 7),
        rating=("very_satisfied", at(10, 8)),
    )
    r.dossier(PROVINCE, BIRTH, channel=2, at=at(10, 6, 10), status=9, resolved=at(10, 7, 16, 59))  # on the due day
    r.dossier(PROVINCE, LAND, channel=3, at=at(10, 7, 8), status=4)  # due in November: in progress, in time
    r.dossier(PROVINCE, LAND, channel=1, at=at(8, 20), status=4)  # due in September: carried over, late
    r.dossier(  # due 16/9, resolved in October: carried over and late
        PROVINCE,
        BIRTH,
        channel=1,
        at=at(9, 15),
        status=10,
        resolved=at(10, 2),
        returned=at(10, 5),
        rating=("not_satisfied", at(10, 6)),
    )
    r.dossier(PROVINCE, BIRTH, channel=1, at=at(10, 8), status=3, refused=at(10, 8))  # refused at intake
    r.dossier(PROVINCE, BIRTH, channel=2, at=at(10, 20), status=1)  # submitted online, not yet received
    r.dossier(  # ended in August, rated in October: counts for satisfaction only
        PROVINCE,
        BIRTH,
        channel=1,
        at=at(8, 3),
        status=10,
        resolved=at(8, 4, 10),
        returned=at(8, 5),
        rating=("satisfied", at(10, 2)),
    )
    r.dossier(PROVINCE, BIRTH, channel=1, at=at(10, 9), status=7, withdrawn=at(10, 9, 11))
    # The Nha Trang centre.
    r.dossier(NHA_TRANG, BIRTH, channel=1, at=at(10, 5, 14), status=9, resolved=at(10, 6, 11))
    r.dossier(NHA_TRANG, CRIMINAL_RECORD, channel=2, at=at(10, 26), status=4)
    r.dossier(NHA_TRANG, BIRTH, channel=1, at=at(11, 2), status=2)  # after the period
    r.dossier(NHA_TRANG, COMMUNE_LAND, channel=1, at=at(9, 28), status=4)  # due 26/10: late at the end
    return r.docs


@pytest.fixture
async def client(service_env: Callable[..., str], local_stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    service_env("RECEPTION_")
    app = create_app(ReceptionSettings())
    async with running_app(app) as c:
        r = await c.post(
            "/catalogue/import", json=seed_catalogue(), headers=token(local_stack, "centre_admin", PROVINCE)
        )
        assert r.status_code == 200, r.text
        db = app.state.rt.db
        await ensure_indexes(db, REPORT_INDEXES)
        await db[store.DOSSIERS].insert_many(october_register())
        yield c


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    """carried over, online, direct+postal | early, on time, late | in time, late | rates."""
    rec, res, prog = row["received"], row["resolved"], row["in_progress"]
    return (
        (rec["carried_over"], rec["online"], rec["direct_and_postal"], rec["total"]),
        (res["early"], res["on_time"], res["late"]),
        (prog["in_time"], prog["late"]),
        row["on_time_rate"],
        row["satisfaction_rate"],
    )


async def test_centre_admin_sees_own_centre_by_field(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    admin = token(local_stack, "centre_admin", PROVINCE)
    r = await client.get("/reports/period", params=OCTOBER | {"by": "field"}, headers=admin)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["filters"] == {"centre": PROVINCE} and report["timezone"] == "Asia/Ho_Chi_Minh"
    rows = {row["key"]: row for row in report["rows"]}
    assert list(rows) == ["Hộ tịch", "Đất đai"]
    assert figures(rows["Hộ tịch"]) == ((1, 1, 2, 4), (1, 1, 1), (0, 0), 0.6667, 0.6667)
    assert rows["Hộ tịch"]["satisfaction"] == {"very_satisfied": 1, "satisfied": 1, "not_satisfied": 1, "rated": 3}
    assert figures(rows["Đất đai"]) == ((1, 0, 1, 2), (0, 0, 0), (1, 1), None, None)
    assert figures(report["total"]) == ((2, 1, 3, 6), (1, 1, 1), (1, 1), 0.6667, 0.6667)
    assert report["total"]["name"] == "Tổng cộng"


async def test_centre_staff_cannot_see_another_centre(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    admin = token(local_stack, "centre_admin", PROVINCE)
    other = await client.get("/reports/period", params=OCTOBER | {"centre": NHA_TRANG}, headers=admin)
    assert other.status_code == 403 and NHA_TRANG in other.json()["message"]
    own = await client.get("/reports/period", params=OCTOBER | {"centre": PROVINCE, "by": "centre"}, headers=admin)
    assert own.status_code == 200 and [row["key"] for row in own.json()["rows"]] == [PROVINCE]
    officer = token(local_stack, "counter_officer", NHA_TRANG)
    mine = await client.get("/reports/period", params=OCTOBER | {"by": "centre"}, headers=officer)
    assert [row["key"] for row in mine.json()["rows"]] == [NHA_TRANG]
    leader = token(local_stack, "agency_leader", "000.00.13.H56")
    assert (await client.get("/reports/period", params=OCTOBER, headers=leader)).status_code == 403
    assert (await client.get("/reports/period", params=OCTOBER)).status_code == 401


async def test_auditor_sees_every_centre(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    auditor = token(local_stack, "auditor", "H56")
    r = await client.get("/reports/period", params=OCTOBER | {"by": "centre"}, headers=auditor)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["filters"] == {}
    rows = {row["key"]: row for row in report["rows"]}
    assert list(rows) == [PROVINCE, NHA_TRANG]
    assert rows[NHA_TRANG]["name"] == "Trung tâm Phục vụ hành chính công phường Nha Trang"
    assert figures(rows[NHA_TRANG]) == ((1, 1, 1, 3), (0, 1, 0), (1, 1), 1.0, None)
    assert figures(report["total"]) == ((3, 2, 4, 9), (1, 2, 1), (2, 2), 0.75, 0.6667)

    by_agency = await client.get("/reports/period", params=OCTOBER | {"by": "agency"}, headers=auditor)
    names = {row["key"]: row["name"] for row in by_agency.json()["rows"]}
    assert names == {
        "000.00.13.H56": "Sở Nông nghiệp và Môi trường tỉnh Khánh Hòa",
        "000.00.41.H56": "Công an tỉnh Khánh Hòa",
        "000.16.22.H56": "Ủy ban nhân dân phường Nha Trang",
    }

    land = await client.get("/reports/period", params=OCTOBER | {"by": "procedure", "procedure": LAND}, headers=auditor)
    assert [(row["key"], figures(row)[0]) for row in land.json()["rows"]] == [(LAND, (1, 0, 1, 2))]
    assert land.json()["filters"] == {"procedure": LAND}


async def test_csv_has_vietnamese_headers_and_the_total_last(
    client: httpx.AsyncClient, local_stack: LocalStack
) -> None:
    auditor = token(local_stack, "auditor", "H56")
    r = await client.get("/reports/period", params=OCTOBER | {"by": "centre", "format": "csv"}, headers=auditor)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert tuple(lines[0]) == CSV_HEADERS
    assert lines[1][0] == f"Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa ({PROVINCE})"
    assert lines[-1] == ["Tổng cộng", "3", "2", "4", "9", "1", "2", "1", "2", "2", "75.00%", "66.67%"]
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"date_from": "2026-10-31", "date_to": "2026-10-01"}, "starts (2026-10-31) after it ends"),
        ({"date_from": "2025-09-30", "date_to": "2026-10-01"}, "at most 366"),
        (OCTOBER | {"by": "officer"}, "by:"),
        ({"date_from": "2026-10-01"}, "date_to"),
        (OCTOBER | {"format": "pdf"}, "format"),
    ],
)
async def test_bad_requests_are_refused_clearly(
    client: httpx.AsyncClient, local_stack: LocalStack, params: dict[str, str], needle: str
) -> None:
    r = await client.get("/reports/period", params=params, headers=token(local_stack, "auditor", "H56"))
    assert r.status_code == 422, r.text
    assert needle in r.json()["message"]
