"""Fixtures of the end-to-end tests: helpdesk people on the running stack, a browser, a web chat customer."""

import asyncio

import pytest

from tests.support.browser import browser_context
from tests.support.servers import ChatCustomer, add_agent


@pytest.fixture
def agent(settings):
    return asyncio.run(add_agent(settings, "agent"))


@pytest.fixture
def supervisor(settings):
    return asyncio.run(add_agent(settings, "supervisor"))


@pytest.fixture
def context(stack):
    """A fresh Chromium context, once the stack is up."""
    yield from browser_context()


@pytest.fixture
async def customer(chat_url):
    """A customer connected to the web chat with a session of their own; disconnected afterwards."""
    connected = await ChatCustomer(chat_url).connect()
    yield connected
    await connected.close()
