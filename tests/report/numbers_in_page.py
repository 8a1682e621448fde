"""Reads the numbers a report page shows: every element with a data-path, and its text."""

from __future__ import annotations

from html.parser import HTMLParser


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []
        self._open: list[tuple[str, str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-path" in a:
            self._open.append((tag, a["data-path"] or "", a.get("data-format") or "", []))

    def handle_data(self, data: str) -> None:
        for entry in self._open:
            entry[3].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, path, fmt, text = self._open.pop()
            self.found.append((path, fmt, "".join(text)))


def numbers(page: str) -> list[tuple[str, str, str]]:
    """(data-path, data-format, text) for every tagged number, in page order."""
    collector = _Collector()
    collector.feed(page)
    return collector.found
