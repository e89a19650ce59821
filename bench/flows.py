"""The conversations the load plays: realistic ones for Recovery Desk, fitting ones for the `rasa init` bot.

Only the customer's side is written here: what they open with, how they answer the bot's
questions, and how they close. What the bot answers is read from the bot before each run
(``bench.calibrate``), so a change to the dialogue does not break the benchmark. A flow whose
goal (say, a case number) is no longer reached is reported as a warning.
"""

from __future__ import annotations

import re
from typing import Optional

from bench.chat import Answer, Flow, Turn
from recoverydesk.domain.tickets import TICKET_ID_IN_TEXT

TICKET_PATTERN = TICKET_ID_IN_TEXT.pattern

# A customer with nothing more to add: no money moved, nobody still getting in, no details changed;
# and yes to the security team whenever it is offered.
CUSTOMER_ANSWERS: tuple[Answer, ...] = (
    Answer(r"(security team|bring in|a person)[^.]*\?", "yes"),
    Answer(r"money (left|moved)|been moved", "no"),
    Answer(r"still (be )?getting in|getting in right now", "no"),
    Answer(r"(email address|phone number|two-factor)[^.]*\?", "no"),
)


def conversation(
    name: str, *opening: str, goal: Optional[str] = None, closing: tuple[str, ...] = (), answers: bool = True
) -> Flow:
    return Flow(
        name,
        tuple(Turn(message) for message in opening),
        goal,
        CUSTOMER_ANSWERS if answers else (),
        closing,
    )


OUR_FLOWS: tuple[Flow, ...] = (
    conversation(
        "login_escalated",
        "hello",
        "someone logged into my account from another country",
        goal=TICKET_PATTERN,
        closing=("thanks", "bye"),
    ),
    conversation(
        "money_escalated",
        "hi",
        "money left my account and I didn't send it",
        goal=TICKET_PATTERN,
        closing=("thank you", "bye"),
    ),
    conversation(
        "small_talk",
        "hey there",
        "are you a bot?",
        "what's the weather like today",
        "thanks",
        "goodbye",
        goal="automated assistant",
        answers=False,
    ),
    conversation(
        "phishing_reported",
        "good morning",
        "I got an email asking for my password",
        goal=TICKET_PATTERN,
        closing=("thanks", "bye"),
    ),
)

INIT_BOT_FLOWS: tuple[Flow, ...] = (
    conversation("greet_great_bye", "hi", "I'm great", "bye", goal="Great, carry on", answers=False),
    conversation("greet_bot_bye", "hello", "are you a bot?", "goodbye", goal="I am a bot", answers=False),
)

# A loop that keeps the bot in the same two rules, for latency against conversation length.
# Calibrated over two rounds; the second round is the steady state that repeats.
LONG_LOOP = conversation("long_loop", "hello", "thanks", "hello", "thanks", answers=False)

INIT_BOT_LONG_LOOP = conversation("long_loop", "hello", "are you a bot?", "hello", "are you a bot?", answers=False)

# What a customer writes before the security team takes over (handoff latency).
HANDOFF_SETUP = conversation("handoff_setup", "money left my account and I didn't send it", goal=TICKET_PATTERN)


def long_flow(calibrated_loop: Flow, turns: int) -> Flow:
    """`turns` turns: the loop's first round, then its steady second round repeated."""
    first, steady = calibrated_loop.turns[:2], calibrated_loop.turns[2:4]
    chosen = [first[i] if i < 2 else steady[i % 2] for i in range(turns)]
    return Flow(f"long_{turns}", tuple(chosen), calibrated_loop.goal)


def ticket_id_in(texts: tuple[str, ...]) -> Optional[str]:
    """The case number the bot announced, if any."""
    for text in texts:
        found = re.search(TICKET_PATTERN, text)
        if found:
            return found.group(0)
    return None
