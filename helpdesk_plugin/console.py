"""The agent console: server-rendered pages over the ticket API (filled in by the console work)."""
from __future__ import annotations

from sanic import Sanic


def add_console_routes(app: Sanic) -> None:
    """Registers /console/ pages and static files on the plugin's app."""
