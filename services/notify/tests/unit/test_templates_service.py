"""Template use cases on a fake unit of work: previews, checks, and what the consumer reads."""

from __future__ import annotations

import pytest

from motcua_kit.errors import Invalid, NotFound
from motcua_kit.testing import FakeUnitOfWork
from notify.consumers import TOPICS, consumer_specs, handled_events
from notify.domain import rules, templates
from notify.domain.templates import Template
from notify.service.templates import Preview, PreviewTemplate, preview_template, template_history

from .fakes import fake_repositories


def unedited() -> FakeUnitOfWork:
    """A unit of work whose ``templates`` nobody edited yet."""
    return FakeUnitOfWork(fake_repositories())


async def previewed(key: str, channel: str, template: Template | None = None) -> Preview:
    return await preview_template(PreviewTemplate(key, channel, template), unedited())


async def test_preview_of_the_builtin_uses_sample_data() -> None:
    preview = await previewed("delivery_failed", "sms")
    assert preview.version == 1
    assert preview.message.text == (
        "Phat khong thanh cong lan 1 ket qua ho so 000.00.06.H56-261123-0001. Lan phat tiep theo: 04/12/2026. "
        "Tra cuu: https://dichvucong.khanhhoa.gov.vn/tra-cuu"
    )
    assert preview.message.segments == 1


async def test_preview_of_a_body_counts_segments_and_escapes_html() -> None:
    sms = await previewed("result_ready", "sms", Template(text="{code} " + "x" * 150 + "{lookup_url}"))
    assert sms.version is None and sms.message.segments == 2
    mail = await previewed(
        "result_ready",
        "email",
        Template(subject="Kết quả {code}", text="Kính gửi {full_name}", html="<p>{full_name}</p>"),
    )
    assert mail.message.subject == "Kết quả 000.00.06.H56-261123-0001"
    assert mail.message.html == "<p>Nguyễn Thị Đào</p>" and mail.message.segments is None


async def test_a_bad_body_is_refused_with_every_problem() -> None:
    with pytest.raises(Invalid) as info:
        await previewed("result_ready", "sms", Template(text="Hồ sơ {so_ho_so}"))
    assert info.value.status_code == 422 and info.value.code == "invalid_template"
    assert len(info.value.details) == 3  # not GSM-7, unknown placeholder, no {code} / {lookup_url}


async def test_unknown_template_is_not_found() -> None:
    with pytest.raises(NotFound):
        await previewed("received", "fax")
    with pytest.raises(NotFound):
        await template_history("no_such_step", "sms", unedited())


def test_samples_cover_every_placeholder() -> None:
    for key in rules.template_keys():
        assert set(rules.placeholders(key)) <= set(templates.SAMPLE_VALUES), key


def test_the_consumer_reads_every_event_the_rules_name_on_their_topics() -> None:
    [spec] = consumer_specs()
    assert {cls.event_type for cls in spec.handlers} == set(rules.handled_event_types())
    assert {cls.topic for cls in handled_events()} == set(TOPICS) == set(spec.topics)
