"""The procedure catalogue and the working-time calendar against the real local broker and database."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from motcua_devstack.testing import LocalStack, eventually, read_topic, running_app, seed_catalogue, token
from motcua_kit.events import CalendarChanged, CentreChanged, Envelope, ProcedureChanged
from motcua_kit.outbox import outbox_backlog
from reception.catalogue_csv import COLUMNS
from reception.main import create_app
from reception.settings import ReceptionSettings

from .conftest import OTHER_CENTRE, Reception

pytestmark = pytest.mark.integration

CENTRE = "000.00.06.H56"
LAND = "1.012753.000.00.00.H56"  # two-agency chain, 20 working days, postal return allowed
BIRTH = "1.001193.000.00.00.H56"
NEW = "1.099001.000.00.00.H56"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIXED_DAY = "2030-06-04"  # a Tuesday, no public holiday


@pytest.fixture
async def client(service_env: Callable[..., str], local_stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    service_env("RECEPTION_")
    app = create_app(ReceptionSettings())
    async with running_app(app) as c:
        r = await c.post("/catalogue/import", json=seed_catalogue(), headers=admin(local_stack))
        assert r.status_code == 200, r.text
        yield c
        # Stopping while the relay is reading the outbox can hang the shutdown: let it finish first.
        await eventually(lambda: relayed(app.state.rt.db), message="every event relayed")


async def relayed(db: Any) -> bool:
    return (await outbox_backlog(db))["unsent"] == 0


def admin(stack: LocalStack) -> dict[str, str]:
    return token(stack, "centre_admin", CENTRE, "admin-1")


def officer(stack: LocalStack) -> dict[str, str]:
    return token(stack, "counter_officer", CENTRE, "officer-1")


def seed_procedure(code: str) -> dict[str, Any]:
    return copy.deepcopy(next(p for p in seed_catalogue()["procedures"] if p["code"] == code))


def new_procedure(**changes: Any) -> dict[str, Any]:
    return seed_procedure(LAND) | {"code": NEW, "name": "Thủ tục thử nghiệm cấp phép"} | changes


def land_request() -> dict[str, Any]:
    procedure = seed_procedure(LAND)
    return {
        "procedure_code": LAND,
        "content": "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
        "applicant": {"full_name": "Nguyễn Thị Hoa", "phone": "0905123456", "address": "12 Trần Phú, Nha Trang"},
        "documents": [
            {"name": d["name"], "originals": d["originals"], "copies": d["copies"]}
            for d in procedure["documents"]
            if d["mandatory"]
        ],
    }


async def catalogue_events(stack: LocalStack, key: str, *, at_least: int) -> list[Any]:
    """Every record of ``reception.catalogue`` under ``key``, once at least ``at_least`` are there."""
    topic = ReceptionSettings().kafka.topic_prefix + "reception.catalogue"

    async def records() -> list[Any]:
        found = [r for r in await read_topic(stack.bootstrap, topic, idle_seconds=0.3) if r.key.decode() == key]
        return found if len(found) >= at_least else []

    return await eventually(records, message=f"{at_least} catalogue events keyed {key}")


# --- procedures ---------------------------------------------------------------------------------------


async def test_create_update_retire_make_versions_and_events(
    client: httpx.AsyncClient, local_stack: LocalStack
) -> None:
    created = await client.post("/procedures", json=new_procedure(), headers=admin(local_stack))
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1 and created.json()["change"] == "created"
    again = await client.post("/procedures", json=new_procedure(), headers=admin(local_stack))
    assert again.status_code == 409 and again.json()["error"] == "procedure_exists"

    changed = new_procedure(name="Thủ tục thử nghiệm cấp phép (sửa đổi)", postal_return=False)
    updated = await client.put(f"/procedures/{NEW}", json=changed, headers=admin(local_stack))
    assert updated.status_code == 200 and updated.json()["version"] == 2, updated.text
    same = await client.put(f"/procedures/{NEW}", json=changed | {"code": None}, headers=admin(local_stack))
    assert same.status_code == 200 and same.json()["version"] == 2  # nothing changed: same version
    retired = await client.post(f"/procedures/{NEW}/retire", headers=admin(local_stack))
    assert retired.json()["version"] == 3 and retired.json()["active"] is False
    twice = await client.post(f"/procedures/{NEW}/retire", headers=admin(local_stack))
    assert twice.json()["version"] == 3

    staff = officer(local_stack)
    first = (await client.get(f"/procedures/{NEW}?version=1", headers=staff)).json()
    assert first["name"] == "Thủ tục thử nghiệm cấp phép" and first["postal_return"] is True
    assert (await client.get(f"/procedures/{NEW}", headers=staff)).json()["version"] == 3
    assert (await client.get(f"/procedures/{NEW}?version=9", headers=staff)).status_code == 404
    versions = (await client.get(f"/procedures/{NEW}/versions", headers=staff)).json()
    assert [(v["version"], v["change"], v["changed_by"]) for v in versions] == [
        (1, "created", "admin-1"),
        (2, "updated", "admin-1"),
        (3, "retired", "admin-1"),
    ]
    assert versions[1]["changed_fields"] == ["name", "postal_return"]

    records = await catalogue_events(local_stack, NEW, at_least=3)
    events = [ProcedureChanged.model_validate_json(r.value) for r in records]
    assert [(e.version, e.change) for e in events] == [(1, "created"), (2, "updated"), (3, "retired")]
    assert all(Envelope.from_headers(r.headers).event_type == "ProcedureChanged" for r in records)
    assert events[1].procedure["name"] == changed["name"] and events[2].procedure["active"] is False


async def test_unknown_or_mismatched_procedures(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    missing = await client.put(f"/procedures/{NEW}", json=new_procedure(), headers=admin(local_stack))
    assert missing.status_code == 404
    other = await client.put(f"/procedures/{LAND}", json=new_procedure(), headers=admin(local_stack))
    assert other.status_code == 422 and other.json()["error"] == "code_mismatch"
    bad = await client.post(
        "/procedures", json=new_procedure(competent_agency="000.00.04.H56"), headers=admin(local_stack)
    )
    assert bad.status_code == 422 and "not in the agency chain" in bad.text
    assert (await client.post(f"/procedures/{NEW}/retire", headers=admin(local_stack))).status_code == 404


async def test_reimporting_the_same_file_changes_nothing(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    before = await catalogue_events(local_stack, BIRTH, at_least=1)
    calendar_before = await catalogue_events(local_stack, "calendar:H56", at_least=1)
    r = await client.post("/catalogue/import", json=seed_catalogue(), headers=admin(local_stack))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "centres": 3,
        "agencies": 5,
        "procedures": 11,
        "calendar_overrides": 11,
        "procedures_created": 0,
        "procedures_updated": 0,
        "procedures_unchanged": 11,
        "calendar_changed": False,
        "centres_changed": 0,
    }
    catalogue = seed_catalogue()
    next(p for p in catalogue["procedures"] if p["code"] == BIRTH)["limit"]["value"] = 2
    changed = await client.post("/catalogue/import", json=catalogue, headers=admin(local_stack))
    assert (changed.json()["procedures_updated"], changed.json()["procedures_unchanged"]) == (1, 10)
    after = await catalogue_events(local_stack, BIRTH, at_least=2)
    assert len(before) == 1 and [ProcedureChanged.model_validate_json(a.value).version for a in after] == [1, 2]
    assert len(await catalogue_events(local_stack, "calendar:H56", at_least=1)) == len(calendar_before) == 1


async def test_a_dossier_keeps_its_version_and_a_retired_procedure_refuses_intake(
    client: httpx.AsyncClient, local_stack: LocalStack
) -> None:
    received = await client.post("/dossiers", json=land_request(), headers=officer(local_stack))
    assert received.status_code == 201, received.text
    code = received.json()["code"]
    assert received.json()["procedure"]["version"] == 1

    changed = seed_procedure(LAND) | {"name": "Đăng ký đất đai lần đầu (quy trình mới)"}
    assert (await client.put(f"/procedures/{LAND}", json=changed, headers=admin(local_stack))).json()["version"] == 2
    kept = (await client.get(f"/dossiers/{code}", headers=officer(local_stack))).json()
    assert kept["procedure"]["version"] == 1 and kept["procedure"]["name"] != changed["name"]
    later = await client.post("/dossiers", json=land_request(), headers=officer(local_stack))
    assert later.json()["procedure"]["version"] == 2

    assert (await client.post(f"/procedures/{LAND}/retire", headers=admin(local_stack))).json()["version"] == 3
    refused = await client.post("/dossiers", json=land_request(), headers=officer(local_stack))
    assert refused.status_code == 422 and "no longer in force" in refused.text


async def test_search_filters_and_paging(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    staff = token(local_stack, "auditor", CENTRE)

    async def codes(**params: Any) -> list[str]:
        r = await client.get("/procedures", params=params, headers=staff)
        assert r.status_code == 200, r.text
        return [p["code"] for p in r.json()["items"]]

    assert await codes(q="DANG KY KHAI SINH") == [BIRTH]
    assert await codes(q="đăng ký khai sinh") == [BIRTH]
    assert await codes(q="1.00119") == [BIRTH]
    assert await codes(q=".*") == []  # a literal substring, never a pattern
    assert set(await codes(field="Đất đai")) == {LAND, "1.013978.000.00.00.H56"}
    assert await codes(field="Đất đai", level="province") == [LAND]
    assert await codes(agency="000.00.45.H56", level="province") == [LAND]
    page = (await client.get("/procedures", params={"limit": 4, "offset": 8}, headers=staff)).json()
    assert page["total"] == 11 and len(page["items"]) == 3
    await client.post(f"/procedures/{BIRTH}/retire", headers=admin(local_stack))
    assert await codes(active=False) == [BIRTH]
    assert len(await codes(active=True, limit=200)) == 10
    assert (await client.get("/procedures", params={"limit": 201}, headers=staff)).status_code == 422


# --- centres -----------------------------------------------------------------------------------------


async def test_an_import_publishes_the_new_and_changed_centres(reception: Reception) -> None:
    """One CentreChanged per centre on the first import; a changed address publishes that centre only."""
    topic = reception.prefix + "reception.catalogue"

    async def centre_events(at_least: int) -> dict[str, list[Any]]:
        async def records() -> dict[str, list[Any]]:
            found: dict[str, list[Any]] = {}
            for r in await read_topic(reception.stack.bootstrap, topic, idle_seconds=0.3):
                if Envelope.from_headers(r.headers).event_type == "CentreChanged":
                    found.setdefault(r.key.decode(), []).append(r)
            return found if sum(map(len, found.values())) >= at_least else {}

        return await eventually(records, message=f"{at_least} CentreChanged events")

    centres = seed_catalogue()["centres"]
    first = await centre_events(len(centres))
    assert sorted(first) == sorted(f"centre:{c['code']}" for c in centres)
    for centre in centres:
        [record] = first[f"centre:{centre['code']}"]
        event = CentreChanged.model_validate_json(record.value)
        assert event.key == record.key.decode()
        assert event.model_dump(exclude={"changed_at"}) == {"centre_code": centre["code"]} | {
            k: v for k, v in centre.items() if k != "code"
        }

    catalogue = seed_catalogue()
    moved = next(c for c in catalogue["centres"] if c["code"] == OTHER_CENTRE)
    moved["address"] = "Số 10 Trần Phú, phường Nha Trang, tỉnh Khánh Hòa"
    headers = admin(reception.stack)
    changed = await reception.http.post("/catalogue/import", json=catalogue, headers=headers)
    assert changed.status_code == 200 and changed.json()["centres_changed"] == 1, changed.text
    after = await centre_events(len(centres) + 1)
    assert [len(after[f"centre:{c['code']}"]) for c in centres] == [
        2 if c["code"] == OTHER_CENTRE else 1 for c in centres
    ]
    assert CentreChanged.model_validate_json(after[f"centre:{OTHER_CENTRE}"][-1].value).address == moved["address"]

    same = await reception.http.post("/catalogue/import", json=catalogue, headers=headers)
    assert same.status_code == 200 and same.json()["centres_changed"] == 0, same.text
    await eventually(lambda: relayed(reception.rt.db), message="every event relayed")
    assert sum(map(len, (await centre_events(0)).values())) == len(centres) + 1


# --- CSV ----------------------------------------------------------------------------------------------


def csv_row(code: str, **cells: str) -> dict[str, str]:
    row = {
        "code": code,
        "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "field": "Xây dựng",
        "level": "province",
        "legal_basis": "Luật Xây dựng 2014|Nghị định 175/2024/NĐ-CP",
        "documents": "Đơn đề nghị cấp giấy phép;1;0;yes|Bản vẽ thiết kế;0;2;yes",
        "limit_unit": "working_days",
        "limit_value": "15",
        "online_limit_value": "",
        "cutoff_after_15h": "no",
        "fees": "Lệ phí cấp giấy phép;75.000",
        "competent_agency": "000.00.13.H56",
        "agency_chain": "000.00.13.H56|000.00.45.H56",
        "chain_shares": "0.8|0.2",
        "online_level": "partial",
        "postal_intake": "yes",
        "postal_return": "yes",
    }
    return row | cells


def csv_body(*rows: dict[str, str]) -> bytes:
    lines = [",".join(COLUMNS)] + [",".join(f'"{row[c]}"' for c in COLUMNS) for row in rows]
    return "\ufeff".encode() + "\r\n".join(lines).encode() + b"\r\n"


CSV = {"Content-Type": "text/csv; charset=utf-8"}


async def test_csv_import_creates_the_procedures(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    body = csv_body(csv_row("1.099101.000.00.00.H56"), csv_row("1.099102.000.00.00.H56", name="Gia hạn giấy phép"))
    r = await client.post("/catalogue/import.csv", content=body, headers=admin(local_stack) | CSV)
    assert r.status_code == 200, r.text
    assert (r.json()["procedures"], r.json()["procedures_created"]) == (2, 2)
    got = (await client.get("/procedures/1.099102.000.00.00.H56", headers=officer(local_stack))).json()
    assert got["name"] == "Gia hạn giấy phép" and got["version"] == 1 and got["fees"][0]["amount_vnd"] == 75_000
    assert got["documents"][1] == {"name": "Bản vẽ thiết kế", "originals": 0, "copies": 2, "mandatory": True}
    events = await catalogue_events(local_stack, "1.099101.000.00.00.H56", at_least=1)
    assert ProcedureChanged.model_validate_json(events[0].value).change == "created"


async def test_csv_with_bad_rows_imports_nothing(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    body = csv_body(
        csv_row("1.099201.000.00.00.H56"),
        csv_row("1.099202.000.00.00.H56", limit_value="0", competent_agency="000.00.99.H56"),
        csv_row("1.099203.000.00.00.H56", fees="Lệ phí;nhiều"),
    )
    r = await client.post("/catalogue/import.csv", content=body, headers=admin(local_stack) | CSV)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_csv"
    assert r.json()["details"] == [
        "row 3, limit_value: must be a positive number, got '0'",
        "row 3, competent_agency: 000.00.99.H56 is not an agency of the catalogue",
        "row 4, fees: item 1 'Lệ phí;nhiều': the amount must be a whole number of VND, got 'nhiều'",
    ]
    assert "3 problems in the file, nothing was imported" in r.json()["message"]
    assert (await client.get("/procedures/1.099201.000.00.00.H56", headers=officer(local_stack))).status_code == 404
    json_body = await client.post("/catalogue/import.csv", content=b"{}", headers=admin(local_stack))
    assert json_body.status_code == 415


# --- calendar -----------------------------------------------------------------------------------------


async def days(client: httpx.AsyncClient, stack: LocalStack, start: date, end: date) -> list[dict[str, Any]]:
    params = {"from": start.isoformat(), "to": end.isoformat()}
    r = await client.get("/calendar/days", params=params, headers=officer(stack))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_calendar_overrides_publish_and_show_in_the_days(
    client: httpx.AsyncClient, local_stack: LocalStack
) -> None:
    calendar = (await client.get("/calendar", headers=officer(local_stack))).json()
    assert calendar["periods"] == [["07:00", "11:30"], ["13:30", "17:00"]] and len(calendar["overrides"]) == 11
    day = date.fromisoformat(FIXED_DAY)
    assert (await days(client, local_stack, day, day))[0] == {
        "date": FIXED_DAY,
        "working": True,
        "kind": "workday",
        "reason": None,
    }

    body = {"working": False, "reason": "Nghỉ bù theo quyết định của UBND tỉnh"}
    r = await client.put(f"/calendar/overrides/{FIXED_DAY}", json=body, headers=admin(local_stack))
    assert r.status_code == 200 and len(r.json()["overrides"]) == 12, r.text
    week = await days(client, local_stack, day - timedelta(days=1), day + timedelta(days=5))
    assert [(d["working"], d["kind"]) for d in week] == [
        (True, "workday"),
        (False, "override"),
        (True, "workday"),
        (True, "workday"),
        (True, "workday"),
        (False, "weekend"),
        (False, "weekend"),
    ]
    assert week[1]["reason"] == body["reason"] and week[5]["reason"] == "Nghỉ cuối tuần"
    assert (await days(client, local_stack, date(2026, 9, 2), date(2026, 9, 2)))[0]["reason"] == "Quốc khánh"

    assert (await client.delete(f"/calendar/overrides/{FIXED_DAY}", headers=admin(local_stack))).status_code == 200
    assert (await days(client, local_stack, day, day))[0]["working"] is True
    assert (await client.delete(f"/calendar/overrides/{FIXED_DAY}", headers=admin(local_stack))).status_code == 404

    records = await catalogue_events(local_stack, "calendar:H56", at_least=3)  # the import, the PUT, the DELETE
    events = [CalendarChanged.model_validate_json(r.value) for r in records]
    assert [any(o["date"] == FIXED_DAY for o in e.config["overrides"]) for e in events] == [False, True, False]
    assert events[1].province_code == "H56"


async def test_an_override_moves_the_next_intakes_appointment(
    client: httpx.AsyncClient, local_stack: LocalStack
) -> None:
    first = (await client.post("/dossiers", json=land_request(), headers=officer(local_stack))).json()
    appointment = datetime.fromisoformat(first["appointment_at"]).astimezone(VN)
    tomorrow = datetime.now(VN).date() + timedelta(days=1)
    window = await days(client, local_stack, tomorrow, appointment.date() - timedelta(days=1))
    day_off = next(d["date"] for d in window if d["working"])  # a working day inside the dossier's 20 days

    body = {"working": False, "reason": "Nghỉ đột xuất"}
    assert (
        await client.put(f"/calendar/overrides/{day_off}", json=body, headers=admin(local_stack))
    ).status_code == 200
    moved = (await client.post("/dossiers", json=land_request(), headers=officer(local_stack))).json()
    assert datetime.fromisoformat(moved["appointment_at"]).astimezone(VN).date() > appointment.date()

    assert (await client.delete(f"/calendar/overrides/{day_off}", headers=admin(local_stack))).status_code == 200
    back = (await client.post("/dossiers", json=land_request(), headers=officer(local_stack))).json()
    assert datetime.fromisoformat(back["appointment_at"]) - appointment < timedelta(hours=3)  # seconds, or lunch


async def test_working_hours_are_checked(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    bad = {"periods": [["07:00", "11:30"], ["11:00", "17:00"]], "workdays": [0, 1, 2, 3, 4]}
    r = await client.put("/calendar/hours", json=bad, headers=admin(local_stack))
    assert r.status_code == 422 and "must not overlap" in r.json()["message"]
    r = await client.put("/calendar/hours", json=bad | {"periods": [["7h", "11:30"]]}, headers=admin(local_stack))
    assert r.status_code == 422 and "expected a time as 'HH:MM'" in r.json()["message"]
    good = {"periods": [["07:30", "11:30"], ["13:00", "17:00"]], "workdays": [0, 1, 2, 3, 4, 5]}
    r = await client.put("/calendar/hours", json=good, headers=admin(local_stack))
    assert r.status_code == 200 and r.json()["workdays"] == [0, 1, 2, 3, 4, 5]
    saturday = (await days(client, local_stack, date(2030, 6, 8), date(2030, 6, 8)))[0]
    assert saturday["working"] is True
    records = await catalogue_events(local_stack, "calendar:H56", at_least=2)
    assert CalendarChanged.model_validate_json(records[-1].value).config["periods"] == good["periods"]
    too_long = {"from": "2030-01-01", "to": "2031-12-31"}
    r = await client.get("/calendar/days", params=too_long, headers=officer(local_stack))
    assert r.status_code == 422 and "at most 400 days" in r.json()["message"]


# --- roles --------------------------------------------------------------------------------------------


async def test_only_centre_admins_change_the_catalogue(client: httpx.AsyncClient, local_stack: LocalStack) -> None:
    assert (await client.post("/procedures", json=new_procedure(), headers=officer(local_stack))).status_code == 403
    assert (await client.post("/procedures", json=new_procedure())).status_code == 401
    assert (await client.get("/procedures")).status_code == 401
    assert (await client.get("/procedures", headers=officer(local_stack))).status_code == 200
    body = {"working": False, "reason": "Nghỉ"}
    r = await client.put(f"/calendar/overrides/{FIXED_DAY}", json=body, headers=officer(local_stack))
    assert r.status_code == 403
    csv = await client.post("/catalogue/import.csv", content=b"", headers=officer(local_stack) | CSV)
    assert csv.status_code == 403
    leader = token(local_stack, "agency_leader", "000.00.13.H56")
    assert (await client.get("/calendar", headers=leader)).status_code == 403
