import pytest

from recoverydesk.domain.redaction import CODE_PLACEHOLDER, SECRET_PLACEHOLDER, redact, redact_text


@pytest.mark.parametrize("text", ["123456", "my code is 123456", "code: 123 456", "it's 123-456 thanks"])
def test_six_digit_codes_are_removed_and_kept_for_verification(text):
    result = redact(text)
    assert "123" not in result.text and "456" not in result.text
    assert CODE_PLACEHOLDER in result.text
    assert result.code == "123456"


def test_ticket_numbers_and_long_numbers_are_left_alone():
    assert redact_text("my case is RD-000123") == "my case is RD-000123"
    assert redact_text("card ending 1234567890") == "card ending 1234567890"


def test_declared_passwords_are_removed():
    cleaned = redact_text("my password is Hunter2!Secret and it stopped working")
    assert "Hunter2" not in cleaned and SECRET_PLACEHOLDER in cleaned


def test_base32_seeds_and_recovery_codes_are_removed():
    assert "JBSW" not in redact_text("seed JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP ok")
    assert "ABCD" not in redact_text("recovery ABCD-EFGH-IJKL-MNOP")


def test_secure_link_tokens_are_removed():
    cleaned = redact_text("http://localhost:5005/secure/password/AbCdEfGhIjKlMnOpQrStUv123")
    assert "AbCdEfGh" not in cleaned


def test_two_codes_give_no_code_to_verify():
    result = redact("123456 or 654321")
    assert result.code is None and "123456" not in result.text and "654321" not in result.text


def test_plain_text_is_unchanged():
    text = "someone logged into my account from another country"
    assert redact_text(text) == text
    assert not redact(text).changed


def test_a_typed_recovery_code_is_removed_and_handed_over_on_its_own():
    cleaned = redact("my backup code is K7QD-9XWM-C4HP-ZT2R thanks")
    assert cleaned.recovery_code == "K7QD-9XWM-C4HP-ZT2R" and cleaned.code is None
    assert cleaned.text == "my backup code is [recovery code removed] thanks" and cleaned.changed


def test_a_sentence_about_a_password_keeps_its_meaning():
    for report in ("my password was changed by someone", "my password is not working", "my pin was reset"):
        assert redact_text(report) == report
    assert redact_text("my password is correct horse") == "my password is [secret removed] horse"


SECRETS_BY_LANGUAGE = [
    ("mi contraseña es Gato#2024", "Gato#2024"),
    ("mi contrasena es perrito99 gracias", "perrito99"),
    ("la clave: abc123xyz", "abc123xyz"),
    ("el código es 123456", "123456"),
    ("la mia password è Sole!2023", "Sole!2023"),
    ("la password e' Ciao2020", "Ciao2020"),
    ("il codice è 654 321", "654 321"),
    ("мой пароль: Qwerty123!", "Qwerty123!"),
    ("пароль — Kotik2020", "Kotik2020"),
    ("мой пароль был Zima2021", "Zima2021"),
    ("код 123456", "123456"),
]


@pytest.mark.parametrize("typed,secret", SECRETS_BY_LANGUAGE)
def test_a_password_or_code_typed_in_spanish_italian_or_russian_is_removed(typed, secret):
    cleaned = redact(typed)
    assert secret not in cleaned.text and cleaned.changed


@pytest.mark.parametrize(
    "report",
    [
        "mi contraseña ha sido cambiada",
        "mi contraseña es incorrecta",
        "la mia password è stata cambiata",
        "la password non funziona",
        "мой пароль был изменен",
        "пароль не подходит",
    ],
)
def test_a_sentence_about_a_password_keeps_its_meaning_in_every_language(report):
    assert redact_text(report) == report
