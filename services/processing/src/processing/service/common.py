"""What the use cases share: finding a case the viewer may see, turning the domain's refusals into 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from motcua_kit.errors import Conflict, Forbidden, Invalid, NotFound
from processing.domain.case import Actor, Case
from processing.domain.workflow import ActionRefused, BadChange, NotYours
from processing.store import Repositories


async def visible_case(repos: Repositories, code: str, viewer: Actor) -> Case:
    """The case if the viewer's agency is in its chain (or the viewer audits); else 404."""
    case = await repos.cases.get(code)
    if case is None or not case.visible_to(viewer):
        raise NotFound(f"no case {code} for your agency")
    return case


@contextmanager
def refusals() -> Iterator[None]:
    """The domain's refusals as the errors a caller sees: 403, 409 with the reason, 422."""
    try:
        yield
    except NotYours as exc:
        raise Forbidden(str(exc)) from exc
    except ActionRefused as exc:
        raise Conflict(str(exc), code=exc.code) from exc
    except BadChange as exc:
        raise Invalid(str(exc)) from exc
