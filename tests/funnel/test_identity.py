"""Phone numbers to E.164 and e-mails lower-cased, whatever format they arrive in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.identity import normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("79154821736", "RU", "+79154821736"),  # Telegram: digits, no plus
        ("+7 (915) 482-17-36", "RU", "+79154821736"),
        ("8 926 315-40-88", "RU", "+79263154088"),  # Russian local format
        ("0160 98765432", "DE", "+4916098765432"),  # German local format
        ("+1 720 555 0134", "RU", "+17205550134"),
    ],
)
def test_phone_numbers_in_any_format_become_e164(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


@given(st.text(max_size=30))
def test_anything_else_is_no_number_and_never_an_error(raw: str) -> None:
    result = normalize_phone(raw, "RU")

    assert result is None or (result.startswith("+") and result[1:].isdigit())


def test_emails_are_validated_and_lower_cased() -> None:
    assert normalize_email(" Anna.Smirnova@Example.COM ") == "anna.smirnova@example.com"
    assert normalize_email("anna@") is None
    assert normalize_email("no at sign") is None
