"""Message templates: which messages exist, what each may mention, and rendering them safely.

Templates are Telegram HTML written by the shop owner; the values put into them are escaped.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping

# Every message the bot can send, with the variables its template may use.
MESSAGES: Mapping[str, frozenset[str]] = {
    "welcome": frozenset({"first_name"}),
    "welcome_back": frozenset({"first_name"}),
    "help": frozenset({"first_name"}),
    "sorry": frozenset(),
    "button_expired": frozenset(),
    "stopped": frozenset({"first_name"}),
    "stop_confirm": frozenset(),
    "stop_yes": frozenset(),
    "stop_no": frozenset(),
    "stop_kept": frozenset(),
    "about": frozenset(),
    "slow_down": frozenset(),
    "timezone_ask": frozenset(),
    "timezone_set": frozenset({"zone"}),
    "timezone_bad": frozenset(),
    "magnet_unknown": frozenset({"first_name", "magnets"}),
    "gate_contact": frozenset({"title"}),
    "share_contact_button": frozenset(),
    "gate_contact_foreign": frozenset(),
    "link_claimed": frozenset({"first_name"}),
    "link_unknown": frozenset(),
    "phone_linked": frozenset(),
    "gate_email": frozenset({"title"}),
    "gate_email_invalid": frozenset({"left"}),
    "gate_email_given_up": frozenset(),
    "gate_channel": frozenset({"title"}),
    "gate_channel_open": frozenset(),
    "gate_channel_check": frozenset(),
    "gate_channel_not_yet": frozenset(),
    "cart_more_items": frozenset({"count"}),
    "nudge_link_unknown": frozenset(),
}


def placeholders(template: str) -> set[str]:
    """The {names} a template refers to. Raises ValueError on a malformed brace."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def render(
    template: str, variables: Mapping[str, object], markup: Mapping[str, str] | None = None
) -> str:
    """Fill the template: variables escaped, markup (HTML the bot built itself) as it is."""
    escaped = {name: html.escape(str(value)) for name, value in variables.items()}
    return template.format_map(escaped | dict(markup or {}))
