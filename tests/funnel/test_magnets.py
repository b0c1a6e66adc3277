"""Deep-link payloads naming a magnet and a source."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from funnel.magnets import Entry, Magnet, link, payload, read_payload
from funnel.sources import DIRECT, UNKNOWN

IDS = st.from_regex(r"[a-z0-9_]{1,24}", fullmatch=True)
GUIDE = Magnet(id="tea_guide", title={"en": "Guide"}, text={"en": "Here"})


@given(magnet=IDS, source=IDS)
def test_a_payload_names_its_magnet_and_source_and_fits_telegram(magnet: str, source: str) -> None:
    text = payload(magnet, source)

    assert len(text) <= 64
    assert read_payload(text, []) == Entry(magnet, source)


def test_payloads_without_a_magnet_are_sources_as_before() -> None:
    assert read_payload(None, [GUIDE]) == Entry(None, DIRECT)
    assert read_payload("vk_spring", [GUIDE]) == Entry(None, "vk_spring")
    assert read_payload("summer sale!", [GUIDE]) == Entry(None, UNKNOWN)


def test_a_bare_magnet_id_is_a_direct_request_for_it() -> None:
    assert read_payload("tea_guide", [GUIDE]) == Entry("tea_guide", DIRECT)
    assert read_payload("tea_guide--", [GUIDE]) == Entry("tea_guide", DIRECT)


def test_links_are_t_me_start_links() -> None:
    assert link("samovar_bot", "tea_guide", "vk") == "https://t.me/samovar_bot?start=tea_guide--vk"
