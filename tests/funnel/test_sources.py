"""Deep-link payloads: whatever arrives, the source is a safe, bounded name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from funnel.sources import DIRECT, UNKNOWN, source_from_payload

TELEGRAM_ALPHABET = st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
)


@given(st.text(alphabet=TELEGRAM_ALPHABET, min_size=1, max_size=64))
def test_a_valid_payload_is_the_source_itself(payload: str) -> None:
    assert source_from_payload(payload) == payload


@given(st.text(max_size=300))
def test_any_payload_gives_a_valid_source_or_unknown(payload: str) -> None:
    source = source_from_payload(payload)

    assert source in {payload, DIRECT, UNKNOWN}
    assert len(source) <= 64


@given(st.text(alphabet=TELEGRAM_ALPHABET, min_size=65, max_size=200))
def test_a_payload_longer_than_telegram_allows_is_unknown(payload: str) -> None:
    assert source_from_payload(payload) == UNKNOWN


def test_no_payload_is_a_direct_visit() -> None:
    assert source_from_payload(None) == DIRECT
    assert source_from_payload("") == DIRECT


def test_characters_telegram_forbids_make_it_unknown() -> None:
    for payload in ("summer sale", "скидка", "a/b", "x=1&y=2", "ad\n1"):
        assert source_from_payload(payload) == UNKNOWN
