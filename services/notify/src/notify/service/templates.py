"""The message templates: what staff see, edit and preview. The built-ins are version 1 of each."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from motcua_kit.errors import Conflict, Invalid, NotFound
from motcua_kit.logs import get_logger
from motcua_kit.uow import UnitOfWork, use_case
from notify.domain import rules, templates
from notify.domain.messages import OutgoingMessage, render
from notify.domain.templates import Channel, Template, TemplateVersion
from notify.service.recording import current_template
from notify.store import Repositories

log = get_logger(__name__)
EDIT_ATTEMPTS = 5


@dataclass(frozen=True)
class Preview:
    key: str
    channel: Channel
    version: int | None
    message: OutgoingMessage


@dataclass(frozen=True)
class EditTemplate:
    key: str
    channel: str
    template: Template
    by: str


@dataclass(frozen=True)
class PreviewTemplate:
    """Renders ``template`` (checked first), or the version in use when it is None."""

    key: str
    channel: str
    template: Template | None = None


def _known(key: str, channel: str) -> Channel:
    if not templates.known(key, channel):
        raise NotFound(f"no template {key!r} for channel {channel!r}", code="unknown_template")
    return channel  # type: ignore[return-value]  # a known pair has a valid channel


def checked(key: str, channel: Channel, template: Template) -> Template:
    try:
        templates.validate(key, channel, template)
    except templates.TemplateError as exc:
        raise Invalid(
            f"template {key}/{channel} refused: {exc}", code="invalid_template", details=exc.problems
        ) from exc
    return template


async def list_templates(uow: UnitOfWork[Repositories]) -> list[TemplateVersion]:
    """The version in use of every template, in rule order."""
    edited = {(v.key, v.channel): v for v in await uow.repos.templates.every_current()}
    return [
        edited.get((key, channel)) or TemplateVersion.builtin_of(key, channel) for key, channel in templates.DEFAULTS
    ]


async def template_history(key: str, channel: str, uow: UnitOfWork[Repositories]) -> list[TemplateVersion]:
    """Every version of one template, the built-in first; the last is the one in use."""
    known = _known(key, channel)
    return [TemplateVersion.builtin_of(key, known), *await uow.repos.templates.versions(key, known)]


@use_case
async def edit_template(cmd: EditTemplate, uow: UnitOfWork[Repositories]) -> TemplateVersion:
    """Stores ``template`` as the next version of (key, channel); the next message uses it."""
    known = _known(cmd.key, cmd.channel)
    checked(cmd.key, known, cmd.template)
    for _ in range(EDIT_ATTEMPTS):  # two edits at once: the loser takes the next number
        async with uow:
            current = await uow.repos.templates.current(cmd.key, known)
            version = (current.template.version if current else 1) + 1
            edited = TemplateVersion(
                key=cmd.key,
                channel=known,
                template=replace(cmd.template, version=version),
                builtin=False,
                created_at=datetime.now(UTC),
                created_by=cmd.by,
            )
            if await uow.repos.templates.add(edited):
                await uow.commit()
                log.info("template edited", template=cmd.key, channel=known, version=version)
                return edited
    raise Conflict(f"template {cmd.key}/{cmd.channel} is being edited by someone else, try again")


async def preview_template(query: PreviewTemplate, uow: UnitOfWork[Repositories]) -> Preview:
    """Renders the template sent in (checked like an edit), or the version in use, with the built-in sample data."""
    known = _known(query.key, query.channel)
    template = query.template
    version: int | None = None
    if template is None:
        template = await current_template(uow.repos.templates, query.key, known)
        version = template.version
    else:
        checked(query.key, known, template)
    sample = {name: templates.SAMPLE_VALUES.get(name, "") for name in rules.placeholders(query.key)}
    return Preview(key=query.key, channel=known, version=version, message=render(template, known, "preview", sample))
