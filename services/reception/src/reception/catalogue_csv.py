"""The national catalogue's flat CSV shape: one row per procedure.

The first row is the header; it names every column below, in any order (names are case-insensitive)::

    code,name,field,level,legal_basis,documents,limit_unit,limit_value,online_limit_value,
    cutoff_after_15h,fees,competent_agency,agency_chain,chain_shares,online_level,postal_intake,postal_return

Cells (surrounding spaces are ignored; ``|`` separates the items of a list, ``;`` the parts of an item):

    code                a procedure code: letters, digits, ``.``, ``-``, ``_`` (e.g. 1.010708.000.00.00.H56)
    name, field         text, required
    level               ``province`` or ``commune`` (also ``tỉnh`` / ``xã``)
    legal_basis         legal texts separated by ``|`` (may be empty)
    documents           ``name;originals;copies;mandatory`` items separated by ``|``; originals and copies are
                        whole numbers >= 0; mandatory is yes/no (empty: yes)
    limit_unit          ``working_days`` or ``working_hours``
    limit_value         a positive number (``.`` or ``,`` as the decimal mark)
    online_limit_value  a positive number, or empty when online dossiers have the same limit
    cutoff_after_15h    yes/no: a dossier received after 15:00 counts from the next working day
    fees                ``name;amount`` items separated by ``|``; the amount in VND is a whole number
                        (``50000`` or ``50.000``)
    competent_agency    the code of an agency already in the catalogue; it must be in agency_chain
    agency_chain        agency codes (already in the catalogue) separated by ``|``, in processing order
    chain_shares        empty (equal shares) or one positive number per agency of the chain, summing to 1
    online_level        ``partial`` or ``full`` (also ``một phần`` / ``toàn trình``)
    postal_intake       yes/no: may be submitted through the public postal service
    postal_return       yes/no: the result may be returned by post

Yes/no cells accept ``yes``/``no``, ``true``/``false``, ``1``/``0``, ``có``/``không``, ``x``/empty.
Names may contain ``;`` (an item is split at its last ones) but not ``|``. Rows are numbered as a
spreadsheet shows them: the header is row 1, the first procedure row 2; empty rows are skipped.
The text is UTF-8, with or without a byte-order mark. Every problem is reported as
``row N, column: message``; the file is imported only when there is none.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from reception.domain.catalogue import AGENCY_CODE, PROCEDURE_CODE, Fee, Procedure, RequiredDocument, TimeLimit

COLUMNS = (
    "code",
    "name",
    "field",
    "level",
    "legal_basis",
    "documents",
    "limit_unit",
    "limit_value",
    "online_limit_value",
    "cutoff_after_15h",
    "fees",
    "competent_agency",
    "agency_chain",
    "chain_shares",
    "online_level",
    "postal_intake",
    "postal_return",
)
MAX_TEXT = 2000
YES = frozenset({"yes", "y", "true", "1", "có", "co", "x"})
NO = frozenset({"no", "n", "false", "0", "không", "khong", ""})
LEVELS = {"province": "province", "tỉnh": "province", "commune": "commune", "xã": "commune"}
ONLINE_LEVELS = {"partial": "partial", "một phần": "partial", "full": "full", "toàn trình": "full"}
LIMIT_UNITS = ("working_days", "working_hours")
VND = re.compile(r"^(\d+|\d{1,3}([.,]\d{3})+)$")


class CellError(ValueError):
    """A cell that cannot be read; the message says what it must be."""


@dataclass(frozen=True)
class CsvImport:
    """What a file holds: its procedures when ``errors`` is empty, else every problem found."""

    procedures: list[Procedure]
    errors: list[str]


def parse_procedures(data: bytes, known_agencies: Collection[str]) -> CsvImport:
    """Reads a whole file; ``known_agencies`` are the agency codes already in the catalogue."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return CsvImport([], [f"the file is not UTF-8 text (bad byte at offset {exc.start})"])
    rows = _records(text)
    try:
        _, header = next(rows)
    except StopIteration:
        return CsvImport([], ["the file is empty: it needs a header row and one row per procedure"])
    except BrokenRecord as exc:
        return CsvImport([], [str(exc)])
    columns = [c.strip().lower() for c in header]
    errors = _header_errors(columns)
    if errors:
        return CsvImport([], errors)
    return _parse_rows(rows, columns, known_agencies)


class BrokenRecord(ValueError):
    """A record the CSV reader cannot split into cells."""


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Records numbered from 1 (the header); empty records are skipped but keep their number."""
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BrokenRecord(f"row {number}: {exc}") from exc
        if any(cell.strip() for cell in record):
            yield number, record


def _header_errors(columns: list[str]) -> list[str]:
    errors = []
    missing = [c for c in COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in COLUMNS]
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if missing:
        errors.append(f"row 1: missing columns: {', '.join(missing)}")
    if unknown:
        errors.append(f"row 1: unknown columns: {', '.join(unknown)}")
    if twice:
        errors.append(f"row 1: columns named twice: {', '.join(twice)}")
    return errors


def _parse_rows(
    rows: Iterator[tuple[int, list[str]]], columns: list[str], known_agencies: Collection[str]
) -> CsvImport:
    procedures: list[Procedure] = []
    errors: list[str] = []
    first_row: dict[str, int] = {}
    try:
        for number, record in rows:
            procedure, problems = parse_row(number, record, columns, known_agencies)
            if procedure is not None and procedure.code in first_row:
                problems = [f"row {number}, code: {procedure.code} is already in row {first_row[procedure.code]}"]
            errors += problems
            if procedure is not None and not problems:
                first_row[procedure.code] = number
                procedures.append(procedure)
    except BrokenRecord as exc:  # the reader cannot go on past it
        errors.append(str(exc))
    if not procedures and not errors:
        errors.append("the file has a header but no procedure rows")
    return CsvImport([] if errors else procedures, errors)


def parse_row(
    number: int, record: list[str], columns: list[str], known_agencies: Collection[str]
) -> tuple[Procedure | None, list[str]]:
    """One procedure row: the procedure, or the problems of its cells."""
    if len(record) != len(columns):
        return None, [f"row {number}: has {len(record)} cells, the header has {len(columns)} (check the quoting)"]
    cells = {column: cell.strip() for column, cell in zip(columns, record, strict=True)}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for column, read in CELLS.items():
        try:
            values[column] = read(cells[column])
        except CellError as exc:
            problems.append(f"row {number}, {column}: {exc}")
    problems += [f"row {number}, {column}: {message}" for column, message in _references(values, known_agencies)]
    if problems:
        return None, problems
    return _procedure(number, values)


def _procedure(number: int, values: dict[str, Any]) -> tuple[Procedure | None, list[str]]:
    try:
        limit = TimeLimit(
            unit=values["limit_unit"], value=values["limit_value"], online_value=values["online_limit_value"]
        )
        fields = {k: v for k, v in values.items() if k in Procedure.model_fields}
        return Procedure(**fields, limit=limit), []
    except ValidationError as exc:  # what the cell readers let through but the model refuses
        return None, [f"row {number}, {_column(e['loc'])}: {e['msg']}" for e in exc.errors()]


def _column(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "row"
    if loc[0] == "limit" or loc[0] in ("unit", "value", "online_value"):
        return "limit_value"
    return str(loc[0])


# --- cells -------------------------------------------------------------------------------------------


def _text(cell: str) -> str:
    if not cell:
        raise CellError("is required")
    if len(cell) > MAX_TEXT:
        raise CellError(f"is longer than {MAX_TEXT} characters")
    return cell


def _code(cell: str) -> str:
    if not re.match(PROCEDURE_CODE, cell):
        raise CellError(f"must be a procedure code like 1.010708 (letters, digits, '.', '-', '_'), got '{cell}'")
    return cell


def _choice(options: dict[str, str]) -> Callable[[str], str]:
    def read(cell: str) -> str:
        value = options.get(cell.lower())
        if value is None:
            raise CellError(f"must be {' or '.join(dict.fromkeys(options.values()))}, got '{cell}'")
        return value

    return read


def _limit_unit(cell: str) -> str:
    if cell.lower() not in LIMIT_UNITS:
        raise CellError(f"must be working_days or working_hours, got '{cell}'")
    return cell.lower()


def _number(cell: str) -> float:
    try:
        value = float(cell.replace(",", "."))
    except ValueError:
        raise CellError(f"must be a positive number, got '{cell}'") from None
    if not value > 0 or value == float("inf"):
        raise CellError(f"must be a positive number, got '{cell}'")
    return value


def _optional_number(cell: str) -> float | None:
    return _number(cell) if cell else None


def _flag(cell: str) -> bool:
    word = cell.lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise CellError(f"must be yes or no (also true/false, 1/0, có/không), got '{cell}'")


def _items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split("|") if item.strip()]


def _whole(value: str, what: str) -> int:
    if not value.strip().isdigit():
        raise CellError(f"{what} must be a whole number >= 0, got '{value.strip()}'")
    return int(value)


def _documents(cell: str) -> list[RequiredDocument]:
    documents = []
    for index, item in enumerate(_items(cell), start=1):
        parts = [p.strip() for p in item.rsplit(";", 3)]
        if len(parts) != 4 or not parts[0]:
            raise CellError(f"item {index} '{item}' must be name;originals;copies;mandatory")
        try:
            originals, copies = _whole(parts[1], "originals"), _whole(parts[2], "copies")
            mandatory = _flag(parts[3]) if parts[3] else True
        except CellError as exc:
            raise CellError(f"item {index} '{item}': {exc}") from None
        documents.append(RequiredDocument(name=parts[0], originals=originals, copies=copies, mandatory=mandatory))
    return documents


def _fees(cell: str) -> list[Fee]:
    fees = []
    for index, item in enumerate(_items(cell), start=1):
        parts = [p.strip() for p in item.rsplit(";", 1)]
        if len(parts) != 2 or not parts[0]:
            raise CellError(f"item {index} '{item}' must be name;amount")
        if not VND.match(parts[1]):
            raise CellError(f"item {index} '{item}': the amount must be a whole number of VND, got '{parts[1]}'")
        fees.append(Fee(name=parts[0], amount_vnd=int(re.sub(r"[.,]", "", parts[1]))))
    return fees


def _agency(cell: str) -> str:
    if not re.match(AGENCY_CODE, cell):
        raise CellError(f"must be an agency code like 000.00.06.H56, got '{cell}'")
    return cell


def _chain(cell: str) -> list[str]:
    codes = _items(cell)
    if not codes:
        raise CellError("needs at least one agency code")
    bad = [c for c in codes if not re.match(AGENCY_CODE, c)]
    if bad:
        raise CellError(f"agency codes look like 000.00.06.H56, got {', '.join(repr(c) for c in bad)}")
    if len(set(codes)) != len(codes):
        raise CellError("names an agency twice")
    return codes


def _shares(cell: str) -> list[float] | None:
    items = _items(cell)
    if not items:
        return None
    try:
        return [_number(item) for item in items]
    except CellError:
        raise CellError(f"must be positive numbers separated by |, got '{cell}'") from None


CELLS: dict[str, Callable[[str], Any]] = {
    "code": lambda cell: _code(_text(cell)),
    "name": _text,
    "field": _text,
    "level": _choice(LEVELS),
    "legal_basis": _items,
    "documents": _documents,
    "limit_unit": _limit_unit,
    "limit_value": _number,
    "online_limit_value": _optional_number,
    "cutoff_after_15h": _flag,
    "fees": _fees,
    "competent_agency": lambda cell: _agency(_text(cell)),
    "agency_chain": _chain,
    "chain_shares": _shares,
    "online_level": _choice(ONLINE_LEVELS),
    "postal_intake": _flag,
    "postal_return": _flag,
}


def _references(values: dict[str, Any], known_agencies: Collection[str]) -> list[tuple[str, str]]:
    """Checks across cells, on the cells that could be read (one problem per cell at most)."""
    competent, chain, shares = values.get("competent_agency"), values.get("agency_chain"), values.get("chain_shares")
    problems: list[tuple[str, str]] = []
    if competent is not None and competent not in known_agencies:
        problems.append(("competent_agency", f"{competent} is not an agency of the catalogue"))
    elif competent is not None and chain is not None and competent not in chain:
        problems.append(("competent_agency", f"{competent} is not in agency_chain"))
    unknown = [c for c in chain or () if c not in known_agencies]
    if unknown:
        problems.append(("agency_chain", f"not agencies of the catalogue: {', '.join(unknown)}"))
    if shares is not None and chain is not None and len(shares) != len(chain):
        problems.append(("chain_shares", f"needs one share per agency of the chain ({len(chain)}), got {len(shares)}"))
    elif shares is not None and abs(sum(shares) - 1.0) > 1e-6:
        problems.append(("chain_shares", f"must sum to 1, they sum to {sum(shares):g}"))
    return problems
