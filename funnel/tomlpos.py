"""Finds the line of a key path in TOML text, so that errors can point at it.

tomllib keeps no positions, so this reads the text for table headers and key assignments. It is
best-effort: an error it cannot place is reported without a line.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")

Path = tuple[str | int, ...]


def _split_key(raw: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in raw.split("."))


def key_lines(text: str) -> list[tuple[int, Path]]:
    """Each header or assignment with its 1-based line and full path (array items by index)."""
    found: list[tuple[int, Path]] = []
    table: Path = ()
    array_counts: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            keys = _split_key(header.group(2))
            if header.group(1) == "[[":
                index = array_counts.get(keys, 0)
                array_counts[keys] = index + 1
                table = (*keys, index)
            else:
                table = keys
            found.append((number, table))
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            found.append((number, (*table, *_split_key(assignment.group(1)))))
    return found


def locate(text: str, path: Path) -> int | None:
    """The line that best matches path: the longest of its prefixes that appears in the text."""
    lines = key_lines(text)
    for length in range(len(path), 0, -1):
        prefix = path[:length]
        for number, found in lines:
            if found == prefix:
                return number
    return None
