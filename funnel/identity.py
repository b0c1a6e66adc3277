"""Phone numbers and e-mail addresses, normalized so that shops' records can find the customer."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 (+79154821736), or None when it is no valid number. Telegram sends contacts'
    numbers as digits without the +; shops send them in every local format."""
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    candidates = [text] if text.startswith("+") else [f"+{digits}", text]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def normalize_email(raw: str) -> str | None:
    """The address lower-cased, or None when it is not a valid address."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.normalized.lower()


def phone_key(phone: str) -> str:
    return f"phone:{phone}"


def email_key(email: str) -> str:
    return f"email:{email}"
