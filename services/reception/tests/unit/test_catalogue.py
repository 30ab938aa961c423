"""The catalogue without servers: the CSV reader, procedure versions, calendar days."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest

from motcua_worktime import WorkCalendar
from reception.catalogue_csv import COLUMNS, parse_procedures
from reception.domain.catalogue import (
    CatalogueImport,
    Procedure,
    calendar_days,
    fold,
    plan_change,
    search_text,
    with_hours,
    with_override,
    without_override,
)
from reception.service.catalogue import ProcedureFilter

AGENCIES = {"000.00.13.H56", "000.00.45.H56", "000.16.22.H56"}
LAND = {
    "code": "1.012753.000.00.00.H56",
    "name": "Đăng ký đất đai lần đầu",
    "field": "Đất đai",
    "level": "province",
    "legal_basis": "Luật Đất đai 2024|Nghị định 101/2024/NĐ-CP",
    "documents": "Đơn đăng ký;1;0;yes|Giấy tờ về quyền sử dụng đất;0;1;yes|Sơ đồ thửa đất;0;1;no",
    "limit_unit": "working_days",
    "limit_value": "20",
    "online_limit_value": "18,5",
    "cutoff_after_15h": "yes",
    "fees": "Lệ phí cấp giấy chứng nhận;100.000|Phí thẩm định;50000",
    "competent_agency": "000.00.13.H56",
    "agency_chain": "000.00.13.H56|000.00.45.H56",
    "chain_shares": "0.75|0.25",
    "online_level": "toàn trình",
    "postal_intake": "có",
    "postal_return": "1",
}
BIRTH = {
    "code": "1.001193.000.00.00.H56",
    "name": "Đăng ký khai sinh",
    "field": "Hộ tịch",
    "level": "xã",
    "legal_basis": "",
    "documents": "Tờ khai đăng ký khai sinh;1;0;|Giấy chứng sinh; hoặc văn bản của người làm chứng;1;0;yes",
    "limit_unit": "working_hours",
    "limit_value": "4",
    "online_limit_value": "",
    "cutoff_after_15h": "",
    "fees": "",
    "competent_agency": "000.16.22.H56",
    "agency_chain": "000.16.22.H56",
    "chain_shares": "",
    "online_level": "partial",
    "postal_intake": "no",
    "postal_return": "false",
}


def csv_bytes(*rows: dict[str, str], columns: tuple[str, ...] = COLUMNS, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def errors_of(*rows: dict[str, str]) -> list[str]:
    result = parse_procedures(csv_bytes(*rows), AGENCIES)
    assert result.procedures == []
    return result.errors


# --- the CSV reader -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [False, True])
def test_good_rows_become_procedures(bom: bool) -> None:
    result = parse_procedures(csv_bytes(LAND, BIRTH, bom=bom), AGENCIES)
    assert result.errors == []
    land, birth = result.procedures
    assert land.code == "1.012753.000.00.00.H56" and land.level == "province"
    assert land.legal_basis == ["Luật Đất đai 2024", "Nghị định 101/2024/NĐ-CP"]
    assert [(d.name, d.originals, d.copies, d.mandatory) for d in land.documents] == [
        ("Đơn đăng ký", 1, 0, True),
        ("Giấy tờ về quyền sử dụng đất", 0, 1, True),
        ("Sơ đồ thửa đất", 0, 1, False),
    ]
    assert (land.limit.unit, land.limit.value, land.limit.online_value) == ("working_days", 20, 18.5)
    assert [(f.name, f.amount_vnd) for f in land.fees] == [
        ("Lệ phí cấp giấy chứng nhận", 100_000),
        ("Phí thẩm định", 50_000),
    ]
    assert land.agency_chain == ["000.00.13.H56", "000.00.45.H56"] and land.chain_shares == [0.75, 0.25]
    assert land.cutoff_after_15h and land.postal_intake and land.postal_return and land.online_level == "full"
    assert birth.level == "commune" and birth.limit.online_value is None and birth.chain_shares is None
    assert [(d.name, d.mandatory) for d in birth.documents] == [
        ("Tờ khai đăng ký khai sinh", True),
        ("Giấy chứng sinh; hoặc văn bản của người làm chứng", True),
    ]
    assert not birth.cutoff_after_15h and not birth.postal_return


def test_header_names_are_case_insensitive_in_any_order_and_empty_rows_are_skipped() -> None:
    columns = tuple(reversed(COLUMNS))
    data = csv_bytes(LAND, columns=columns).replace(b"code,", b"CODE,", 1) + b",,,,,,,,,,,,,,,,\r\n"
    result = parse_procedures(data, AGENCIES)
    assert result.errors == [] and len(result.procedures) == 1


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("code", "", "code: is required"),
        ("code", "1 010/708", "code: must be a procedure code like 1.010708"),
        ("name", " ", "name: is required"),
        ("field", "", "field: is required"),
        ("level", "district", "level: must be province or commune, got 'district'"),
        ("documents", "Đơn;1", "documents: item 1 'Đơn;1' must be name;originals;copies;mandatory"),
        (
            "documents",
            "Đơn;1;0;có|Bản vẽ;x;0;",
            "documents: item 2 'Bản vẽ;x;0;': originals must be a whole number >= 0",
        ),
        ("documents", "Đơn;1;-1;yes", "documents: item 1 'Đơn;1;-1;yes': copies must be a whole number >= 0"),
        ("documents", "Đơn;1;0", "documents: item 1 'Đơn;1;0' must be name;originals;copies;mandatory"),
        ("documents", "Đơn;1;0;maybe", "documents: item 1 'Đơn;1;0;maybe': must be yes or no"),
        ("limit_unit", "days", "limit_unit: must be working_days or working_hours, got 'days'"),
        ("limit_value", "", "limit_value: must be a positive number, got ''"),
        ("limit_value", "0", "limit_value: must be a positive number, got '0'"),
        ("limit_value", "-3", "limit_value: must be a positive number"),
        ("limit_value", "năm", "limit_value: must be a positive number"),
        ("limit_value", "nan", "limit_value: must be a positive number"),
        ("online_limit_value", "0", "online_limit_value: must be a positive number"),
        ("cutoff_after_15h", "maybe", "cutoff_after_15h: must be yes or no"),
        ("fees", "Lệ phí", "fees: item 1 'Lệ phí' must be name;amount"),
        ("fees", "Lệ phí;50.5", "fees: item 1 'Lệ phí;50.5': the amount must be a whole number of VND"),
        ("competent_agency", "", "competent_agency: is required"),
        ("competent_agency", "Sở Tài chính", "competent_agency: must be an agency code like 000.00.06.H56"),
        ("competent_agency", "000.00.99.H56", "competent_agency: 000.00.99.H56 is not an agency of the catalogue"),
        ("competent_agency", "000.16.22.H56", "competent_agency: 000.16.22.H56 is not in agency_chain"),
        ("agency_chain", "", "agency_chain: needs at least one agency code"),
        ("agency_chain", "000.00.13.H56|thuế", "agency_chain: agency codes look like 000.00.06.H56, got 'thuế'"),
        ("agency_chain", "000.00.13.H56|000.00.13.H56", "agency_chain: names an agency twice"),
        ("agency_chain", "000.00.13.H56|000.00.77.H56", "agency_chain: not agencies of the catalogue: 000.00.77.H56"),
        ("chain_shares", "0.5", "chain_shares: needs one share per agency of the chain (2), got 1"),
        ("chain_shares", "0.5|0.6", "chain_shares: must sum to 1, they sum to 1.1"),
        ("chain_shares", "0.5|half", "chain_shares: must be positive numbers separated by |"),
        ("online_level", "một nửa", "online_level: must be partial or full, got 'một nửa'"),
        ("postal_intake", "2", "postal_intake: must be yes or no"),
        ("postal_return", "perhaps", "postal_return: must be yes or no"),
    ],
)
def test_every_bad_cell_is_named_by_row_and_column(column: str, value: str, message: str) -> None:
    errors = errors_of(BIRTH, LAND | {column: value})
    assert len(errors) == 1, errors
    assert errors[0].startswith("row 3, "), errors
    assert message in errors[0], errors


def test_all_errors_are_reported_at_once_and_nothing_is_kept() -> None:
    errors = errors_of(
        LAND | {"limit_value": "0", "level": "x"},
        BIRTH,
        BIRTH | {"code": "1.000894.000.00.00.H56", "postal_return": "?"},
    )
    assert errors == [
        "row 2, level: must be province or commune, got 'x'",
        "row 2, limit_value: must be a positive number, got '0'",
        "row 4, postal_return: must be yes or no (also true/false, 1/0, có/không), got '?'",
    ]


def test_a_code_twice_is_an_error_on_the_second_row() -> None:
    assert errors_of(BIRTH, LAND, BIRTH) == ["row 4, code: 1.001193.000.00.00.H56 is already in row 2"]


def test_header_problems_are_reported_before_rows() -> None:
    columns = (*(c for c in COLUMNS if c not in ("fees", "level")), "remarks")
    errors = parse_procedures(csv_bytes(LAND, columns=columns), AGENCIES).errors
    assert errors == ["row 1: missing columns: level, fees", "row 1: unknown columns: remarks"]


def test_a_row_with_missing_cells_is_reported() -> None:
    data = csv_bytes(LAND) + b"1.000894,Chung nhan\r\n"
    assert parse_procedures(data, AGENCIES).errors == ["row 3: has 2 cells, the header has 17 (check the quoting)"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf", "the file is empty"),
        (",".join(COLUMNS).encode() + b"\r\n", "the file has a header but no procedure rows"),
        ("code,name\r\n1.0,Khai sinh".encode("utf-16"), "the file is not UTF-8 text"),
        ("code;tên\r\n".encode("latin-1"), "the file is not UTF-8 text (bad byte at offset 6)"),
    ],
)
def test_files_that_are_not_a_catalogue(data: bytes, message: str) -> None:
    result = parse_procedures(data, AGENCIES)
    assert result.procedures == [] and len(result.errors) == 1 and message in result.errors[0]


# --- versions -----------------------------------------------------------------------------------------


def procedure(**changes: Any) -> Procedure:
    result = parse_procedures(csv_bytes(LAND), AGENCIES)
    return result.procedures[0].model_copy(update=changes)


def stored(p: Procedure, version: int) -> dict[str, Any]:
    return {"_id": p.code, **p.model_dump(), "version": version, "search_text": search_text(p), "changed_by": "x"}


def test_a_new_procedure_is_version_1() -> None:
    change = plan_change(None, procedure())
    assert change is not None and (change.kind, change.version) == ("created", 1)


def test_same_content_makes_no_version_whatever_else_is_stored() -> None:
    assert plan_change(stored(procedure(), 4), procedure()) is None


def test_a_change_makes_the_next_version_and_names_the_fields() -> None:
    change = plan_change(stored(procedure(), 4), procedure(name="Đăng ký đất đai", postal_return=False))
    assert change is not None
    assert (change.kind, change.version, change.changed_fields) == ("updated", 5, ("name", "postal_return"))


def test_retiring_and_bringing_back() -> None:
    retired = plan_change(stored(procedure(), 2), procedure(active=False))
    assert retired is not None and (retired.kind, retired.version) == ("retired", 3)
    back = plan_change(stored(procedure(active=False), 3), procedure())
    assert back is not None and (back.kind, back.version) == ("updated", 4)


def test_a_nested_change_counts() -> None:
    p = procedure()
    longer = p.model_copy(update={"limit": p.limit.model_copy(update={"value": 25.0})})
    change = plan_change(stored(p, 1), longer)
    assert change is not None and change.changed_fields == ("limit",)


def test_search_text_is_folded_and_the_query_escaped() -> None:
    assert fold("  Đăng KÝ   đất ĐAI ") == "dang ky dat dai"
    assert search_text(procedure()) == "1.012753.000.00.00.h56 dang ky dat dai lan dau"
    query = ProcedureFilter(q="1.0127 (ĐẤT", level="province", active=True, agency="000.00.13.H56").query()
    assert query == {
        "level": "province",
        "agency_chain": "000.00.13.H56",
        "active": True,
        "search_text": {"$regex": re.escape("1.0127 (dat")},
    }
    assert ProcedureFilter(q="  ").query() == {}


def test_a_catalogue_file_with_a_procedure_twice_is_refused() -> None:
    from pydantic import ValidationError

    from motcua_devstack.testing import seed_catalogue

    data = seed_catalogue()
    data["procedures"].append(data["procedures"][0])
    with pytest.raises(ValidationError, match="procedures listed more than once"):
        CatalogueImport.model_validate(data)


# --- calendar -----------------------------------------------------------------------------------------

TET_OVERRIDE = {"date": "2026-02-16", "working": False, "reason": "Nghỉ Tết theo quyết định của tỉnh"}


def days(calendar: WorkCalendar, start: str, end: str) -> dict[str, tuple[bool, str, str | None]]:
    return {
        d.date.isoformat(): (d.working, d.kind, d.reason)
        for d in calendar_days(calendar, date.fromisoformat(start), date.fromisoformat(end))
    }


def test_calendar_days_give_the_reason_overrides_first() -> None:
    extra = {"date": "2026-09-04", "working": False, "reason": "Nghỉ bù Quốc khánh"}
    calendar = WorkCalendar.from_config({"overrides": [TET_OVERRIDE, extra]})
    assert days(calendar, "2026-02-13", "2026-02-16") == {
        "2026-02-13": (True, "workday", None),
        "2026-02-14": (False, "weekend", "Nghỉ cuối tuần"),
        "2026-02-15": (False, "weekend", "Nghỉ cuối tuần"),
        "2026-02-16": (False, "override", "Nghỉ Tết theo quyết định của tỉnh"),
    }
    assert days(calendar, "2026-09-02", "2026-09-04") == {
        "2026-09-02": (False, "holiday", "Quốc khánh"),
        "2026-09-03": (True, "workday", None),
        "2026-09-04": (False, "override", "Nghỉ bù Quốc khánh"),
    }
    assert days(calendar, "2026-08-22", "2026-08-22") == {
        "2026-08-22": (True, "swapped_workday", "Ngày làm việc bù theo lịch nghỉ lễ")
    }


def test_calendar_days_agree_with_the_calendar_for_a_whole_year() -> None:
    calendar = WorkCalendar.from_config({"overrides": [TET_OVERRIDE], "workdays": [0, 1, 2, 3, 4, 5]})
    for day in calendar_days(calendar, date(2026, 1, 1), date(2027, 1, 31)):
        assert day.working == calendar.is_working_day(day.date)
        assert (day.reason is None) == (day.kind == "workday")


def test_without_public_holidays_a_holiday_is_a_workday() -> None:
    calendar = WorkCalendar.from_config({"use_public_holidays": False})
    assert days(calendar, "2026-09-02", "2026-09-02") == {"2026-09-02": (True, "workday", None)}


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("2026-01-10", "2026-01-09", "ends"), ("2026-01-01", "2027-02-05", "at most 400 days")],
)
def test_calendar_days_refuse_bad_ranges(start: str, end: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calendar_days(WorkCalendar(), date.fromisoformat(start), date.fromisoformat(end))


def test_editing_the_calendar_config() -> None:
    config = with_override({}, date(2026, 3, 2), working=False, reason="Nghỉ bù")
    config = with_override(config, date(2026, 3, 2), working=True, reason="Làm bù")
    assert config["overrides"] == [{"date": "2026-03-02", "working": True, "reason": "Làm bù"}]
    assert without_override(config, date(2026, 3, 3)) is None
    assert without_override(config, date(2026, 3, 2))["overrides"] == []  # type: ignore[index]
    hours = with_hours(
        config, periods=[["07:30", "11:30"], ["13:00", "17:00"]], workdays=[0, 1, 2, 3, 4, 5], timezone=None
    )
    assert hours["periods"] == [["07:30", "11:30"], ["13:00", "17:00"]] and hours["workdays"] == [0, 1, 2, 3, 4, 5]
    assert hours["overrides"] == config["overrides"] and hours["timezone"] == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(
    ("periods", "workdays", "message"),
    [
        ([["11:30", "07:00"]], [0], "periods[0]: working period start must be before its end"),
        ([["7h", "11:30"]], [0], "periods[0] start: expected a time as 'HH:MM'"),
        ([["07:00", "12:00"], ["11:00", "17:00"]], [0], "must not overlap"),
        ([["07:00", "11:30"]], [7], "workdays must be weekday numbers 0 (Monday) to 6"),
    ],
)
def test_bad_hours_say_what_is_wrong(periods: list[list[str]], workdays: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        with_hours({}, periods=periods, workdays=workdays, timezone=None)
