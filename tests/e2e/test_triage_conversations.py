"""Triage through the real stack: urgent cases act first, evidence raises priority, a person on request."""

import json
import re

from redis.asyncio import Redis

from tests.support.servers import tracker_slots


async def ticket(settings, ticket_id):
    redis = Redis.from_url(settings.redis_url)
    try:
        return json.loads(await redis.get(f"rd:helpdesk:ticket:{ticket_id}"))
    finally:
        await redis.close()


def ticket_id_in(text: str) -> str:
    return re.search(r"RD-\d+", text).group(0)


async def test_an_unauthorized_transaction_gets_an_urgent_ticket_at_once(settings, customer):
    [reply] = await customer.say("someone took 900 euros out of my current account, it wasn't me")
    assert "urgent" in reply["text"]
    state = await tracker_slots(settings, customer.session_id)
    assert (state["triage_category"], state["triage_priority"]) == ("unauthorized_transaction", "urgent")
    stored = await ticket(settings, ticket_id_in(reply["text"]))
    assert stored["priority"] == "urgent" and stored["sla_due_at"] > stored["created_at"]


async def test_ongoing_access_raises_a_sign_in_report_to_urgent(settings, customer):
    await customer.say("there was a login from a city I've never been to")
    await customer.say("no")
    [reply] = await customer.say("yes")  # still getting in
    assert "two-factor" in reply["text"]
    [reply] = await customer.say("no")
    assert "urgent" in reply["text"]
    state = await tracker_slots(settings, customer.session_id)
    assert (state["triage_category"], state["triage_priority"]) == ("unrecognized_login", "urgent")


async def test_phishing_reports_get_advice_and_a_low_ticket(settings, customer):
    advice, recognise, forwarded = await customer.say(
        "I got an sms pretending to be you asking me to confirm my card details", expect=3
    )
    assert "Don't click" in advice["text"] and "never ask" in recognise["text"]
    stored = await ticket(settings, ticket_id_in(forwarded["text"]))
    assert stored["priority"] == "low" and stored["category"] == "phishing_report"
    assert "need:phishing_report" in stored["tags"]


async def test_breach_questions_get_the_approved_answer(settings, customer):
    answer, followups = await customer.say("was my data part of the breach in the news?", expect=2)
    assert "contact every affected customer" in answer["text"]
    assert [b["title"] for b in followups["quick_replies"]] == ["Check my account", "Talk to a person"]
    assert (await tracker_slots(settings, customer.session_id))["conversation_tags"] == ["need:am_i_affected"]


async def test_two_misunderstandings_in_a_row_offer_a_person(settings, customer):
    [first] = await customer.say("xqzv plom trrw")
    assert "didn't quite get" in first["text"]
    [second] = await customer.say("blorf snaggle wimp")
    assert "person" in second["text"]
    [done] = await customer.say("yes")
    assert "case number is RD-" in done["text"]


async def test_goodbye_summarises_and_gives_safety_tips(settings, customer):
    await customer.say("money left my account without me")
    summary, tips, goodbye = await customer.say("bye", expect=3)
    assert "is with our security team" in summary["text"]
    assert "never share a code" in tips["text"]
    assert goodbye["text"]
