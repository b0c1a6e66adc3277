"""The funnel definition file: the shipped example, and mistakes reported with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.telegram_html import plain_text
from funnel.definition import DefinitionError, FunnelDefinition, load_definition, parse_definition
from tests.conftest import REPO

SHIPPED = (REPO / "funnel.toml").read_text(encoding="utf-8")


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as raised:
        parse_definition(text, Path("funnel.toml"))
    return raised.value.lines()


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


def test_the_shipped_file_defines_the_default_funnel(definition: FunnelDefinition) -> None:
    assert definition.stage_names == [
        "started", "lead", "cart", "checkout", "order", "paid", "delivered", "repeat",
    ]  # fmt: skip
    stages = {stage.name: stage for stage in definition.stages}
    assert stages["started"].events == ["bot_started"]
    assert stages["lead"].events == ["magnet_delivered", "contact_shared", "email_given"]
    assert (stages["repeat"].events, stages["repeat"].occurrence) == (["order_paid"], 2)
    assert definition.languages == ["ru", "en"]


def test_an_event_reaching_two_stages_is_pointed_at(definition: FunnelDefinition) -> None:
    text = SHIPPED.replace('events = ["checkout_started"]', 'events = ["cart_updated"]')

    [problem] = problems(text)

    line = line_of(text, 'events = ["cart_updated"]', occurrence=2)
    assert problem == (
        f"funnel.toml:{line}: stages[3].events: 'cart_updated' already reaches stage 'cart'; "
        "an event can reach one stage only"
    )


def test_an_unknown_placeholder_is_pointed_at() -> None:
    text = SHIPPED.replace('en = "Hello, {first_name}!', 'en = "Hello, {firstname}!', 1)

    [problem] = problems(text)

    line = line_of(text, "{firstname}")
    assert problem.startswith(f"funnel.toml:{line}: templates.welcome.en: unknown placeholder")
    assert "{firstname}" in problem


def test_a_missing_translation_is_pointed_at() -> None:
    text = SHIPPED.replace('title = { ru = "Лид", en = "Lead" }', 'title = { ru = "Лид" }')

    [problem] = problems(text)

    assert problem == f"funnel.toml:{line_of(text, 'Лид')}: stages[1].title: no en title"


def test_a_misspelt_key_is_pointed_at() -> None:
    text = SHIPPED.replace("occurrence = 2", "occurence = 2")

    [problem] = problems(text)

    line = line_of(text, "occurence = 2")
    assert problem == f"funnel.toml:{line}: stages[7].occurence: Extra inputs are not permitted"


def test_a_toml_syntax_error_gives_its_line() -> None:
    text = SHIPPED.replace('name = "cart"', 'name = "cart')

    [problem] = problems(text)

    assert problem.startswith(f"funnel.toml:{line_of(text, 'name = ' + chr(34) + 'cart')}:")
    assert "not valid TOML" in problem


def test_a_missing_template_is_reported() -> None:
    start = SHIPPED.index("[templates.help]")
    end = SHIPPED.index("\n[templates.", start + 1)
    text = SHIPPED[:start] + SHIPPED[end:]

    assert problems(text) == ["funnel.toml: templates: the 'help' template is missing"]


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot be read: No such file"):
        load_definition(tmp_path / "nope.toml")


def test_every_problem_is_reported_at_once() -> None:
    text = SHIPPED.replace('name = "lead"', 'name = "started"').replace(
        'default_language = "ru"', 'default_language = "de"'
    )

    assert len(problems(text)) == 2


@given(st.text(max_size=80))
def test_any_name_renders_as_text_telegram_accepts(
    first_name: str,
) -> None:
    definition = parse_definition(SHIPPED, Path("funnel.toml"))

    rendered = definition.text("welcome", "en", first_name=first_name)

    assert plain_text(rendered, "HTML").startswith(f"Hello, {first_name}!")
