"""The funnel definition file: stages in order, the events that reach them, and message templates.

Loaded from TOML and validated, so a mistake is reported with its file, field and line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from funnel.customers import pick_language
from funnel.events import is_event_type
from funnel.magnets import Magnet, Source
from funnel.nudges import NUDGE_PLACEHOLDERS, CartRules
from funnel.parcels import PARCEL_PLACEHOLDERS, TOLD_STATUSES, DeliveryRules
from funnel.templates import MESSAGES, placeholders, render
from funnel.tomlpos import locate

_NAME = r"^[a-z][a-z0-9_]{0,31}$"
Name = Annotated[str, Field(pattern=_NAME)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$")]


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    title: dict[Language, str]
    events: Annotated[list[str], Field(min_length=1)]
    # The repeat stage is reached by a customer's second order_paid.
    occurrence: Annotated[int, Field(ge=1)] = 1


class FunnelDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_language: Language
    languages: Annotated[list[Language], Field(min_length=1)]
    # Reports pack a stage's number into six bits.
    stages: Annotated[list[Stage], Field(min_length=1, max_length=64)]
    templates: dict[str, dict[str, str]]
    magnets: list[Magnet] = []
    sources: list[Source] = []
    carts: CartRules = CartRules()
    delivery: DeliveryRules = DeliveryRules()

    @property
    def stage_names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def language_for(self, language_code: str | None) -> str:
        """The language to speak to someone whose Telegram client says language_code."""
        return pick_language(language_code, tuple(self.languages), self.default_language)

    def magnet(self, magnet_id: str) -> Magnet | None:
        return next((m for m in self.magnets if m.id == magnet_id), None)

    @property
    def offered_magnets(self) -> list[Magnet]:
        """The magnets a link can ask for; the rest only reminders hand out."""
        return [m for m in self.magnets if m.offered]

    def offered_magnet(self, magnet_id: str | None) -> Magnet | None:
        return next((m for m in self.offered_magnets if m.id == magnet_id), None)

    def text(self, message: str, language: str, **variables: object) -> str:
        """A message rendered in the language, or in the default language when it has none."""
        variants = self.templates[message]
        return render(variants.get(language, variants[self.default_language]), variables)


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str
    line: int | None


class DefinitionError(Exception):
    def __init__(self, file: Path, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(self.lines()[0] if problems else str(file))

    def lines(self) -> list[str]:
        out = []
        for problem in self.problems:
            where = f"{self.file}:{problem.line}" if problem.line else str(self.file)
            field = f" {problem.field}:" if problem.field else ""
            out.append(f"{where}:{field} {problem.message}")
        return out


def load_definition(file: Path) -> FunnelDefinition:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        problem = Problem("", f"cannot be read: {error.strerror}", None)
        raise DefinitionError(file, [problem]) from None
    definition = parse_definition(text, file)
    # Magnet files are named relative to the funnel file, wherever the bot runs from.
    magnets = [
        m.model_copy(update={"file": str(file.parent / m.file)})
        if m.file is not None and is_local_file(m.file)
        else m
        for m in definition.magnets
    ]
    return definition.model_copy(update={"magnets": magnets})


def is_local_file(value: str | None) -> bool:
    """A path rather than a URL or a Telegram file_id (which has neither / nor .)."""
    if value is None or value.startswith(("http://", "https://")):
        return False
    return "/" in value or "." in value


def parse_definition(text: str, file: Path) -> FunnelDefinition:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        raise DefinitionError(
            file, [Problem("", f"not valid TOML: {error}", int(line.group(1)) if line else None)]
        ) from None
    try:
        definition = FunnelDefinition.model_validate(data)
    except ValidationError as error:
        problems = [
            Problem(_dotted(e["loc"]), e["msg"], locate(text, tuple(e["loc"])))
            for e in error.errors()
        ]
        raise DefinitionError(file, problems) from None
    problems = [
        Problem(_dotted(loc), message, locate(text, loc)) for loc, message in _meaning(definition)
    ]
    if problems:
        raise DefinitionError(file, problems)
    return definition


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


Loc = tuple[str | int, ...]


def _meaning(definition: FunnelDefinition) -> Iterator[tuple[Loc, str]]:
    """What the schema cannot say: names unique, every language covered, templates sound."""
    languages = definition.languages
    if definition.default_language not in languages:
        yield ("default_language",), f"{definition.default_language!r} is not in languages"
    seen_stages: set[str] = set()
    reached_by: dict[tuple[str, int], str] = {}
    for index, stage in enumerate(definition.stages):
        if stage.name in seen_stages:
            yield ("stages", index, "name"), f"stage {stage.name!r} is defined twice"
        seen_stages.add(stage.name)
        for language in languages:
            if language not in stage.title:
                yield ("stages", index, "title"), f"no {language} title"
        for event_type in stage.events:
            if not is_event_type(event_type):
                yield ("stages", index, "events"), f"{event_type!r} is not an event type name"
            other = reached_by.setdefault((event_type, stage.occurrence), stage.name)
            if other != stage.name:
                yield (
                    ("stages", index, "events"),
                    (
                        f"{event_type!r} already reaches stage {other!r}; "
                        "an event can reach one stage only"
                    ),
                )
    yield from _catalog(definition)
    yield from _cart_nudges(definition)
    yield from _delivery(definition)
    for message in MESSAGES:
        if message not in definition.templates:
            yield ("templates",), f"the {message!r} template is missing"
    for message, variants in definition.templates.items():
        allowed = MESSAGES.get(message)
        if allowed is None:
            yield ("templates", message), f"no message is called {message!r}"
            continue
        for language in languages:
            if language not in variants:
                yield ("templates", message), f"no {language} text"
        for language, template in variants.items():
            try:
                unknown = placeholders(template) - allowed
            except ValueError as error:
                yield ("templates", message, language), f"malformed braces: {error}"
                continue
            if unknown:
                names = ", ".join(sorted(allowed)) or "none"
                yield (
                    ("templates", message, language),
                    f"unknown placeholder {{{sorted(unknown)[0]}}}; it can use {names}",
                )


def _delivery(definition: FunnelDefinition) -> Iterator[tuple[Loc, str]]:
    """Parcel messages for known statuses, in every language, naming only what a parcel has."""
    rules = definition.delivery
    for field in ("urgent", "alert_on"):
        for index, status in enumerate(getattr(rules, field)):
            if status not in TOLD_STATUSES:
                yield ("delivery", field, index), f"{status!r} is not a delivery status"
    texts: dict[Loc, dict[str, str]] = {
        ("delivery", "messages", status): variants for status, variants in rules.messages.items()
    }
    for status in rules.messages:
        if status not in TOLD_STATUSES:
            known = ", ".join(TOLD_STATUSES)
            yield ("delivery", "messages", status), f"{status!r} is not one of {known}"
    for field in ("pickup_reminder", "cod_note"):
        if getattr(rules, field):
            texts[("delivery", field)] = getattr(rules, field)
    for where, variants in texts.items():
        for loc, problem in _texts(variants, definition.languages, PARCEL_PLACEHOLDERS):
            yield (*where, *loc), problem


def _texts(
    variants: dict[str, str], languages: list[str], allowed: frozenset[str]
) -> Iterator[tuple[Loc, str]]:
    """A text's variants: one per language, each naming only what it may."""
    for language in languages:
        if language not in variants:
            yield (), f"no {language} text"
    for language, text in variants.items():
        try:
            unknown = placeholders(text) - allowed
        except ValueError as error:
            yield (language,), f"malformed braces: {error}"
            continue
        if unknown:
            names = ", ".join(sorted(allowed))
            yield (language,), f"unknown placeholder {{{sorted(unknown)[0]}}}; it can use {names}"


def _cart_nudges(definition: FunnelDefinition) -> Iterator[tuple[Loc, str]]:
    """Reminders in every language, naming only what a cart has, in order of time."""
    previous = None
    for step, nudge in enumerate(definition.carts.nudges):
        where: Loc = ("carts", "nudges", step)
        if previous is not None and nudge.delay <= previous:
            yield (*where, "after"), "reminders must come later than the one before"
        previous = nudge.delay
        allowed = NUDGE_PLACEHOLDERS | ({"code"} if nudge.coupon else set())
        for loc, problem in _texts(nudge.text, definition.languages, allowed):
            yield (*where, "text", *loc), problem
        if nudge.button is not None:
            for loc, problem in _texts(nudge.button, definition.languages, frozenset()):
                yield (*where, "button", *loc), problem
        if nudge.coupon is not None:
            target = definition.magnet(nudge.coupon)
            if target is None or target.kind != "coupon":
                yield (*where, "coupon"), f"{nudge.coupon!r} is not a coupon magnet"


def _catalog(definition: FunnelDefinition) -> Iterator[tuple[Loc, str]]:
    """Magnets and sources: unique ids, every language, a file where the kind needs one."""
    ids = {
        "magnets": [m.id for m in definition.magnets],
        "sources": [s.id for s in definition.sources],
    }
    for name, values in ids.items():
        for index, value in enumerate(values):
            if value in values[:index]:
                yield (name, index, "id"), f"{value!r} is defined twice"
    for index, magnet in enumerate(definition.magnets):
        for field in ("title", "text"):
            for language in definition.languages:
                if language not in getattr(magnet, field):
                    yield ("magnets", index, field), f"no {language} {field}"
        for step, followup in enumerate(magnet.followups):
            if followup.coupon is not None:
                target = definition.magnet(followup.coupon)
                if target is None or target.kind != "coupon":
                    yield (
                        ("magnets", index, "followups", step, "coupon"),
                        (f"{followup.coupon!r} is not a coupon magnet"),
                    )
            texts = {"text": followup.text}
            if followup.button is not None:
                texts["button"] = followup.button.text
            for field, variants in texts.items():
                for language in definition.languages:
                    if language not in variants:
                        yield ("magnets", index, "followups", step, field), f"no {language} text"
        if (magnet.gate == "channel") != (magnet.channel is not None):
            yield ("magnets", index, "channel"), "a channel gate and a channel go together"
        if magnet.kind == "coupon":
            if magnet.file:
                yield ("magnets", index, "file"), "a coupon magnet has no file"
            for language, text in magnet.text.items():
                try:
                    unknown = placeholders(text) - {"code", "expires"}
                except ValueError as error:
                    unknown = {str(error)}
                if unknown:
                    yield (
                        ("magnets", index, "text", language),
                        ("a coupon text can name {code} and {expires} only"),
                    )
            continue
        if magnet.kind != "text" and not magnet.file:
            yield ("magnets", index, "file"), f"a {magnet.kind} magnet needs a file"
        if magnet.kind == "text" and magnet.file:
            yield ("magnets", index, "file"), "a text magnet has no file; use kind document"
