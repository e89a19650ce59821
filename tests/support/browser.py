"""Debian's Chromium driven by Playwright (Playwright's own browser download is not used), and what the
browser tests do on every console page: sign in, and watch for dialogs and page problems."""

from __future__ import annotations

import shutil
from typing import Iterator

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update"]


def browser_context() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context()
        try:
            yield context
        finally:
            context.close()
            browser.close()


def sign_in_to_console(page, helpdesk_url: str, agent: dict) -> None:
    """Signs ``agent`` (from ``add_agent``) in through the console's login form."""
    page.goto(f"{helpdesk_url}/console/login")
    page.fill("input[name=username]", agent["username"])
    page.fill("input[name=password]", agent["password"])
    page.fill("input[name=totp]", agent["totp"].now())
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{helpdesk_url}/console/")


def signed_in_page(context, helpdesk_url: str, agent: dict):
    """A new page of ``context`` with ``agent`` signed in to the console."""
    page = context.new_page()
    sign_in_to_console(page, helpdesk_url, agent)
    return page


def watch_dialogs(page) -> list:
    """The messages of every dialog the page opens (each dismissed)."""
    opened = []
    page.on("dialog", lambda dialog: (opened.append(dialog.message), dialog.dismiss()))
    return opened


def watch_problems(page) -> list:
    """Console errors and warnings, and uncaught script errors, of the page."""
    problems: list = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems
