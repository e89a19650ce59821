"""Splits a reply into parts no longer than a platform allows (Telegram 4096, WhatsApp 4096,
Messenger 2000 characters), at a paragraph, line or word boundary where there is one."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """The parts of ``text``, in order, each of 1 to ``limit`` characters; nothing is lost but the
    whitespace at a cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for boundary in ("\n\n", "\n", " "):
            cut = window.rfind(boundary)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
