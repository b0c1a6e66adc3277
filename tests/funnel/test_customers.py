"""Choosing the language a customer is spoken to in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from funnel.customers import pick_language

SUPPORTED = ("ru", "en")


@given(st.one_of(st.none(), st.text(max_size=20)))
def test_the_choice_is_always_a_supported_language(code: str | None) -> None:
    assert pick_language(code, SUPPORTED, "ru") in SUPPORTED


def test_regional_variants_map_to_their_language() -> None:
    assert pick_language("en-US", SUPPORTED, "ru") == "en"
    assert pick_language("EN_gb", SUPPORTED, "ru") == "en"
    assert pick_language("ru", SUPPORTED, "en") == "ru"


def test_unknown_or_missing_languages_get_the_default() -> None:
    assert pick_language("de", SUPPORTED, "ru") == "ru"
    assert pick_language(None, SUPPORTED, "en") == "en"
