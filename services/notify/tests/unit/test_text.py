from __future__ import annotations

import pytest

from notify.domain.text import sms_segments, unaccent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hồ sơ đã được tiếp nhận", "Ho so da duoc tiep nhan"),
        ("ĐẶNG VĂN ĐỨC", "DANG VAN DUC"),
        ("Đ đ Ư ư Ơ ơ Â â Ê ê Ô ô Ă ă", "D d U u O o A a E e O o A a"),
        ("Khánh Hòa, Nha Trang", "Khanh Hoa, Nha Trang"),
        ("Ngày hẹn trả: 30/11/2026", "Ngay hen tra: 30/11/2026"),
        ("plain ASCII 123 !?", "plain ASCII 123 !?"),
    ],
)
def test_unaccent_gives_plain_ascii(text: str, expected: str) -> None:
    assert unaccent(text) == expected
    assert unaccent(text).isascii()


def test_unaccent_handles_decomposed_input() -> None:
    assert unaccent("Hòa".replace("ò", "o\u0300")) == "Hoa"


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("đ" * 70, 1),  # outside GSM-7: UCS-2
        ("đ" * 71, 2),
        ("a" * 150 + "đ", 3),  # one diacritic turns the whole text into UCS-2: 151 units / 67
        ("{" * 80, 1),  # extension table: two septets each
        ("{" * 81, 2),
    ],
)
def test_sms_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_extension_pair_is_not_split_across_parts() -> None:
    # 152 plain septets then an escape pair: 154 septets do not fit one 153-septet part with the pair whole.
    assert sms_segments("a" * 152 + "€" + "a" * 10) == 2
    # 306 septets would be two parts of 153 if the pair could be split; it cannot.
    assert sms_segments("a" * 152 + "€" + "a" * 152) == 3
