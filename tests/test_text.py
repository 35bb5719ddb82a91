"""Folding and spelling of Vietnamese names."""

import pytest

from dieuhanh.core.text import canonical_spelling, fold, like_pattern, name_key


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Xã Lộc Thạnh", "loc thanh"),
        ("xa Loc Thanh", "loc thanh"),
        ("  XÃ   LỘC  THẠNH ", "loc thanh"),
        ("Lộc Thạnh", "loc thanh"),
        ("Phường Biên Hoà", "bien hoa"),
        ("Thành phố Hồ Chí Minh", "ho chi minh"),
        ("Đặc khu Phú Quốc", "phu quoc"),
        ("Sở Y tế", "so y te"),
        ("Xã", "xa"),  # a bare prefix is a name, not a prefix
    ],
)
def test_name_key_ignores_diacritics_case_and_prefix(written: str, key: str) -> None:
    assert name_key(written) == key


def test_fold_maps_d_with_stroke() -> None:
    assert fold("Đồng Nai – ĐÀ LẠT") == "dong nai da lat"


@pytest.mark.parametrize(
    ("old_style", "modern"),
    [
        ("Hoà", "Hòa"),
        ("Phú Hoà", "Phú Hòa"),
        ("Thuỷ", "Thủy"),
        ("hoè", "hòe"),
        ("Hoàn", "Hoàn"),  # a final consonant keeps the mark where it is in both styles
        ("quả", "quả"),  # "qu" is a consonant
        ("Quý", "Quý"),
        ("Hòa", "Hòa"),
    ],
)
def test_canonical_spelling_puts_tone_marks_the_modern_way(old_style: str, modern: str) -> None:
    assert canonical_spelling(old_style) == modern


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
