"""A customer's time zone: a city they pick, or the UTC offset they type."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

# The cities offered as buttons: Russia's zones west to east, then a few abroad.
CITIES: dict[str, str] = {
    "Калининград": "Europe/Kaliningrad",
    "Москва": "Europe/Moscow",
    "Самара": "Europe/Samara",
    "Екатеринбург": "Asia/Yekaterinburg",
    "Омск": "Asia/Omsk",
    "Новосибирск": "Asia/Novosibirsk",
    "Иркутск": "Asia/Irkutsk",
    "Якутск": "Asia/Yakutsk",
    "Владивосток": "Asia/Vladivostok",
    "Магадан": "Asia/Magadan",
    "Камчатка": "Asia/Kamchatka",
    "Berlin": "Europe/Berlin",
    "London": "Europe/London",
    "New York": "America/New_York",
}

_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::00)?", re.IGNORECASE)


def zone_from_offset(text: str) -> str | None:
    """'+5', 'UTC+5' or 'gmt-3' as a fixed-offset IANA zone; None for anything else."""
    match = _OFFSET.fullmatch(text.strip())
    if match is None:
        return None
    sign, hours = match.group(1), int(match.group(2))
    if hours > 14 or (sign == "-" and hours > 12):
        return None
    if hours == 0:
        return "Etc/UTC"
    # IANA's Etc zones count the other way round: UTC+5 is Etc/GMT-5.
    name = f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    ZoneInfo(name)
    return name
