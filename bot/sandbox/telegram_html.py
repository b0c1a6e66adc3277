"""Telegram's HTML parse mode, as strictly as Telegram applies it: bad markup is a 400."""

from __future__ import annotations

from html.parser import HTMLParser

_ALLOWED = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
    "tg-time",
}


class EntityParseError(ValueError):
    """The text would be refused with "Bad Request: can't parse entities"."""


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED:
            raise EntityParseError(f'Unsupported start tag "{tag}"')
        if tag == "a" and not dict(attrs).get("href"):
            raise EntityParseError('Tag "a" must have an "href" attribute')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise EntityParseError(f'Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text a client shows, after Telegram parses the markup."""
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _Parser()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"'
        )
    return "".join(parser.text)
