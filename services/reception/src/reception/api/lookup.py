"""Public routes for citizens: submit online, look a dossier up, rate the service. No login."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from reception.api.deps import Settings, UoW
from reception.api.dossiers import IdempotencyKey
from reception.api.schemas import LookupOut, OnlineSubmission, RatingIn, SecondFactor
from reception.service import intake, lookup

router = APIRouter(tags=["citizens"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limits(settings: Settings) -> lookup.Limits:
    return lookup.Limits(settings.lookup_per_client_per_minute, settings.lookup_failures_per_code_per_hour)


def _factor(body: SecondFactor) -> lookup.SecondFactor:
    return lookup.SecondFactor(code=body.code, phone=body.phone, id_number=body.id_number, lookup_code=body.lookup_code)


@router.post("/online/dossiers", status_code=status.HTTP_201_CREATED)
async def submit_online(
    body: OnlineSubmission,
    request: Request,
    response: Response,
    uow: UoW,
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, object]:
    """Submit a dossier online (status 1 until the centre accepts it). Returns the code and the lookup code."""
    await lookup.limit_online_submissions(uow, _client(request), settings.online_submissions_per_client_per_hour)
    command = intake.SubmitOnline(
        centre_code=body.centre_code,
        draft=body.draft(),
        lookup_base_url=settings.lookup_base_url,
        idempotency_key=idempotency_key,
    )
    dossier, created = await intake.submit_online(command, uow)
    if not created:
        response.status_code = status.HTTP_200_OK
    return {
        "code": dossier.code,
        "status": dossier.status,
        "lookup_code": dossier.lookup_code,
        "lookup_url": dossier.lookup_url,
    }


@router.post("/lookup", response_model=LookupOut)
async def look_up(body: SecondFactor, request: Request, uow: UoW, settings: Settings) -> LookupOut:
    """Look a dossier up with its code and the phone number, ID number or lookup code on the receipt."""
    dossier = await lookup.find_for_citizen(uow, _factor(body), client=_client(request), limits=_limits(settings))
    return LookupOut.model_validate(lookup.citizen_view(dossier))


@router.post("/lookup/rating", status_code=status.HTTP_201_CREATED)
async def rate(body: RatingIn, request: Request, uow: UoW, settings: Settings) -> dict[str, object]:
    """Rate the service once the result was returned (overall and per criterion)."""
    command = lookup.RateDossier(
        factor=_factor(body),
        overall=body.overall,
        criteria={str(k): v for k, v in body.criteria.items()},
        client=_client(request),
    )
    return await lookup.rate(command, uow, limits=_limits(settings))
