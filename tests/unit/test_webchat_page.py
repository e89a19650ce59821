"""The web chat page shows no sentence of its own: every text is a ``{{utter_...}}`` placeholder that
the server fills from a response in domain.yml (the connection states included)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from recoverydesk.adapters.responses import text
from recoverydesk.settings import ROOT

PAGE = ROOT / "bot" / "channels" / "static" / "webchat.html"
PLACEHOLDER = re.compile(r"\{\{(utter_[a-z_]+)\}\}")
SHOWN_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt", "value")
STATES = ("connecting", "connected", "reconnecting", "offline", "refused")


class Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []
        self.attributes: dict[str, str] = {}
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._in_script = tag in ("script", "style")
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES or name.startswith("data-text-"):
                self.shown.append(value or "")
                self.attributes[name] = value or ""

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.shown.append(data)


def test_every_text_of_the_chat_page_is_a_response():
    page = Texts()
    page.feed(PAGE.read_text())
    for shown in page.shown:
        assert PLACEHOLDER.sub("", shown).strip() == "", shown
    names = PLACEHOLDER.findall(PAGE.read_text())
    assert len(names) >= 10
    for name in names:
        assert text(name)  # raises KeyError for a response domain.yml does not have
    for state in STATES:
        assert PLACEHOLDER.fullmatch(page.attributes[f"data-text-{state}"]), state
    assert PLACEHOLDER.fullmatch(page.attributes["data-text-pending"])
