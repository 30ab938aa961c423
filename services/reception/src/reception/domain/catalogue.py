"""The province's catalogue: centres, agencies, procedures and the working-time calendar."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AGENCY_CODE = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"


class Centre(BaseModel):
    code: str = Field(pattern=AGENCY_CODE)
    name: str = Field(min_length=1)
    level: Literal["province", "commune"]
    address: str | None = None
    phone: str | None = None
    email: str | None = None


class Agency(BaseModel):
    code: str = Field(pattern=AGENCY_CODE)
    name: str = Field(min_length=1)
    level: Literal["province", "commune"]
    centre_code: str = Field(pattern=AGENCY_CODE)


class RequiredDocument(BaseModel):
    name: str = Field(min_length=1)
    originals: int = Field(ge=0)
    copies: int = Field(ge=0)
    mandatory: bool = True


class TimeLimit(BaseModel):
    unit: Literal["working_days", "working_hours"]
    value: float = Field(gt=0)
    online_value: float | None = Field(default=None, gt=0)

    def working_hours(self, *, online: bool, hours_per_day: float = 8.0) -> float:
        value = self.online_value if online and self.online_value else self.value
        return value * hours_per_day if self.unit == "working_days" else value


class Fee(BaseModel):
    name: str
    amount_vnd: int = Field(ge=0)


class Procedure(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: str = Field(min_length=3)
    name: str = Field(min_length=1)
    field: str = Field(min_length=1)
    level: Literal["province", "commune"]
    legal_basis: list[str] = []
    documents: list[RequiredDocument] = []
    limit: TimeLimit
    cutoff_after_15h: bool = False
    fees: list[Fee] = []
    competent_agency: str
    agency_chain: list[str] = Field(min_length=1)
    chain_shares: list[float] | None = None
    online_level: Literal["partial", "full"] = "partial"
    postal_intake: bool = False
    postal_return: bool = False
    active: bool = True

    @model_validator(mode="after")
    def _chain(self) -> Procedure:
        if self.competent_agency not in self.agency_chain:
            raise ValueError(f"competent agency {self.competent_agency} is not in the agency chain")
        if self.chain_shares is not None:
            if len(self.chain_shares) != len(self.agency_chain):
                raise ValueError("chain_shares must have one share per agency of the chain")
            if abs(sum(self.chain_shares) - 1.0) > 1e-6 or any(s <= 0 for s in self.chain_shares):
                raise ValueError("chain_shares must be positive and sum to 1")
        return self

    def shares(self) -> list[float]:
        return self.chain_shares or [1.0 / len(self.agency_chain)] * len(self.agency_chain)


class WorkingHours(BaseModel):
    timezone: str = "Asia/Ho_Chi_Minh"
    periods: list[tuple[str, str]] = [("07:00", "11:30"), ("13:30", "17:00")]
    workdays: list[int] = [0, 1, 2, 3, 4]


class CalendarOverride(BaseModel):
    date: str
    working: bool
    reason: str = ""


class Province(BaseModel):
    code: str
    name: str


class CatalogueImport(BaseModel):
    """A whole catalogue file, shaped like the national catalogue plus the province's calendar."""

    province: Province
    working_hours: WorkingHours = WorkingHours()
    calendar_overrides: list[CalendarOverride] = []
    centres: list[Centre] = []
    agencies: list[Agency] = []
    procedures: list[Procedure] = []

    @model_validator(mode="after")
    def _references(self) -> CatalogueImport:
        agencies = {a.code for a in self.agencies}
        for p in self.procedures:
            unknown = [c for c in p.agency_chain if c not in agencies]
            if unknown:
                raise ValueError(f"procedure {p.code} names unknown agencies: {', '.join(unknown)}")
        return self

    def calendar_config(self) -> dict[str, object]:
        return {
            "timezone": self.working_hours.timezone,
            "periods": [list(p) for p in self.working_hours.periods],
            "workdays": self.working_hours.workdays,
            "overrides": [o.model_dump() for o in self.calendar_overrides],
        }
