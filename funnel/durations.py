"""Durations as the funnel file writes them: a number and a unit, such as 90m, 20h or 7d."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

Duration = Annotated[str, Field(pattern=r"^\d{1,3}[mhd]$")]
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})
