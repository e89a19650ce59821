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
    report = "someone took 900 euros out of my current account, it wasn't me"
    reply, securing, ask = await customer.say(report, expect=3)
    assert "urgent" in reply["text"]
    assert "freeze" in securing["text"] and "email address" in ask["text"]  # securing while the team joins
    state = await tracker_slots(settings, customer.session_id)
    assert (state["triage_category"], state["triage_priority"]) == ("unauthorized_transaction", "urgent")
    stored = await ticket(settings, ticket_id_in(reply["text"]))
    assert stored["priority"] == "urgent" and stored["sla_due_at"] > stored["created_at"]


async def test_ongoing_access_raises_a_sign_in_report_to_urgent(settings, customer):
    await customer.say("there was a login from a city I've never been to")
    await customer.say("no")
    [reply] = await customer.say("yes")  # still getting in
    assert "two-factor" in reply["text"]
    reply, _securing, _ask = await customer.say("no", expect=3)
    assert "urgent" in reply["text"]
    state = await tracker_slots(settings, customer.session_id)
    assert (state["triage_category"], state["triage_priority"]) == ("unrecognized_login", "urgent")


async def test_a_vague_report_is_asked_what_happened_and_the_choice_sets_the_category(settings, customer):
    [question] = await customer.say("I think I've been hacked")
    assert [b["title"] for b in question["quick_replies"]] == [
        "Money moved",
        "Unknown sign-in",
        "Details changed",
        "Asked for my codes",
        "I'm locked out",
        "I'm not sure",
    ]
    [money] = await customer.say("/report_unrecognized_login")
    assert "money" in money["text"]
    state = await tracker_slots(settings, customer.session_id)
    assert (state["triage_category"], state["triage_priority"]) == ("unrecognized_login", "normal")


async def test_someone_elses_access_is_a_sign_in_report(settings, customer):
    [question] = await customer.say("I think someone else has access to my account")
    assert "money" in question["text"]
    state = await tracker_slots(settings, customer.session_id)
    assert (state["triage_category"], state["triage_priority"]) == ("unrecognized_login", "normal")


async def test_an_unsure_answer_is_recorded_as_unsure_and_treated_as_ongoing_access(settings, customer):
    await customer.say("there was a login from a city I've never been to")
    await customer.say("no")
    await customer.say("not sure")  # still getting in?
    reply, _securing, ask = await customer.say("no", expect=3)
    assert "urgent" in reply["text"] and "email address" in ask["text"]
    state = await tracker_slots(settings, customer.session_id)
    assert state["access_ongoing"] == "unsure" and state["triage_priority"] == "urgent"
    stored = await ticket(settings, ticket_id_in(reply["text"]))
    assert "Access still ongoing: unsure." in stored["summary"]


async def test_a_how_to_question_is_answered_and_nothing_is_filed(settings, customer):
    [answer] = await customer.say("how do I change my delivery preferences")
    assert "Profile, then Settings" in answer["text"]
    state = await tracker_slots(settings, customer.session_id)
    assert state["triage_category"] is None and state["ticket_id"] is None


async def test_a_suspicious_email_to_check_is_a_phishing_report(settings, customer):
    advice, _recognise, forwarded = await customer.say("suspicious email about my account, can you check it", expect=3)
    assert "Don't click" in advice["text"]
    assert (await ticket(settings, ticket_id_in(forwarded["text"])))["category"] == "phishing_report"


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
    await customer.say("money left my account without me", expect=3)  # ticket, securing, email asked
    summary, tips, goodbye = await customer.say("bye", expect=3)
    assert "is with our security team" in summary["text"]
    assert "never share a code" in tips["text"]
    assert goodbye["text"]
