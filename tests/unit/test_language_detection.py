"""Language detection (issue #16): neutral replies never decide the language, explicit requests
switch it, clear sentences in each language are recognised, and the detector needs no network."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_plugins.language import LanguageDetection, decide
from recoverydesk.domain.languages import (
    conversation_language,
    language_of_accept_header,
    language_of_hint,
    requested_language,
    too_short_to_tell,
)
from recoverydesk.settings import ROOT

ALL = ("en", "es", "it", "ru")

NEUTRAL_REPLIES = [
    "ok", "OK!", "okay", "vale", "sì", "si", "sí", "да", "нет", "no", "yes", "2, 3", "1 y 3", "1 e 3",
    "la 2", "1, 2, 4", "123456", "código 123456", "код 123456", "482913", "juan.perez@ejemplo.es",
    "mario.rossi@esempio.it", "ivan@primer.ru", "email: ivan@primer.ru", "👍", "🙏🙏", "ok 👍", "grazie",
    "gracias", "спасибо", "thanks", "sì grazie", "vale gracias", "да, конечно", "ok ok ok", "no no",
    "https://example.com/x", "+34 600 123 456", "...", "?", "hola", "ciao", "привет", "hi there",
]

EXPLICIT = {
    "¿podemos hablar en español?": "es",
    "¿Hablas español?": "es",
    "en español por favor": "es",
    "можно по-русски?": "ru",
    "давайте на русском": "ru",
    "in English please": "en",
    "can we speak English?": "en",
    "parliamo in italiano": "it",
    "puoi scrivermi in italiano?": "it",
    "Italiano": "it",
    "español": "es",
}

CLEAR = {
    "someone signed in to my account from another country": "en",
    "alguien ha entrado en mi cuenta desde otro país": "es",
    "me cambiaron la contraseña y no fui yo": "es",
    "qualcuno ha fatto un bonifico dal mio conto senza permesso": "it",
    "non riesco più ad accedere al mio conto": "it",
    "кто-то зашел в мой личный кабинет с чужого устройства": "ru",
    "с моей карты списали деньги, я ничего не покупал": "ru",
}


@pytest.mark.parametrize("reply", NEUTRAL_REPLIES)
def test_a_short_or_neutral_reply_never_decides_the_language(reply):
    assert decide(reply, ALL) == (None, False)


@pytest.mark.parametrize("text,language", EXPLICIT.items())
def test_an_explicit_request_switches_to_the_language_asked_for(text, language):
    assert decide(text, ALL) == (language, True)


@pytest.mark.parametrize("text,language", CLEAR.items())
def test_a_clear_sentence_decides_its_language(text, language):
    assert decide(text, ALL) == (language, False)


def test_a_long_report_that_names_a_language_is_not_a_request():
    text = "I got an email in Spanish asking me to confirm my card details, and then someone logged in"
    assert requested_language(text) is None
    assert decide(text, ALL) == ("en", False)


def test_only_configured_languages_are_decided():
    assert decide("¿podemos hablar en español?", ("en", "it"))[0] != "es"
    assert decide("alguien ha entrado en mi cuenta desde otro país", ("en", "it"))[0] in (None, "it", "en")
    assert decide("alguien ha entrado en mi cuenta desde otro país", ("en", "it"))[0] != "es"


def test_detection_is_deterministic():
    text = "qualcuno ha cambiato la mia email"
    assert {decide(text, ALL) for _ in range(20)} == {("it", False)}


def test_hints_map_bcp47_tags_and_accept_language_to_our_languages():
    assert language_of_hint("es-ES") == "es"
    assert language_of_hint("ru") == "ru"
    assert language_of_hint("pt-BR") is None
    assert language_of_hint(None) is None
    assert language_of_accept_header("pt-BR,pt;q=0.9,it;q=0.8,en;q=0.5") == "it"
    assert language_of_accept_header("fr") is None


def test_the_conversation_language_is_the_slot_then_the_hint_then_the_default():
    assert conversation_language("ru", ["es"], ALL, "en") == "ru"
    assert conversation_language(None, ["fr-FR", "es-MX"], ALL, "en") == "es"
    assert conversation_language(None, [], ALL, "it") == "it"
    assert conversation_language("ru", [], ("en", "es"), "en") == "en"


def test_too_short_counts_distinct_words_not_codes_or_addresses():
    assert too_short_to_tell("mi correo: a@b.es 123456")
    assert not too_short_to_tell("mi correo es nuevo")


def test_the_component_sets_the_entity_and_switch_intent_only_when_decisive():
    component = LanguageDetection(ALL)
    short = Message(data={TEXT: "ok", INTENT: {"name": "affirm", "confidence": 0.9}})
    request = Message(data={TEXT: "можно по-русски?", INTENT: {"name": "out_of_scope", "confidence": 0.5}})
    sentence = Message(data={TEXT: "me robaron dinero de la tarjeta", INTENT: {"name": "x", "confidence": 0.8}})
    component.process([short, request, sentence])
    assert not short.get(ENTITIES)
    assert short.get(INTENT)["name"] == "affirm"
    assert [(e["entity"], e["value"]) for e in request.get(ENTITIES)] == [("language", "ru")]
    assert request.get(INTENT)["name"] == "request_language"
    assert [(e["entity"], e["value"]) for e in sentence.get(ENTITIES)] == [("language", "es")]
    assert sentence.get(INTENT)["name"] == "x"


def test_the_detector_loads_and_answers_with_the_network_blocked():
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network blocked by the test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from bot.rasa_plugins.language import LanguageDetection, decide
        LanguageDetection(("en", "es", "it", "ru"))
        print(decide("qualcuno ha fatto un bonifico dal mio conto", ("en", "es", "it", "ru"))[0])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "it"
