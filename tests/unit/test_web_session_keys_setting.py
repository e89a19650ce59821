"""WEB_SESSION_KEYS_FILE: a missing or unusable key file stops the start-up with a clear message."""

from __future__ import annotations

import pytest

from recoverydesk.services.bootstrap import web_session_keys
from recoverydesk.settings import ConfigurationError, Settings
from tests.support.web_tokens import Website, ec_key, public_pem


def settings_with(tmp_path, **env) -> Settings:
    return Settings.from_env({"RECOVERYDESK_SECRET_KEY": "k" * 40, "RECOVERYDESK_VAR_DIR": str(tmp_path), **env})


def test_without_a_key_file_the_key_set_is_empty(tmp_path):
    assert web_session_keys(settings_with(tmp_path)).keys == {}


def test_a_key_file_and_audience_are_read(tmp_path):
    website = Website()
    path = website.write(tmp_path / "keys.json")
    settings = settings_with(tmp_path, WEB_SESSION_KEYS_FILE=str(path), WEB_SESSION_AUDIENCE="recoverydesk")
    assert set(web_session_keys(settings).keys) == {website.current_kid}
    assert settings.web_session_audience == "recoverydesk"


def test_a_missing_key_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="WEB_SESSION_KEYS_FILE"):
        settings_with(tmp_path, WEB_SESSION_KEYS_FILE=str(tmp_path / "absent.pem"))


def test_an_unusable_key_file_is_a_configuration_error_without_key_material(tmp_path):
    path = tmp_path / "keys.pem"
    private = ec_key()
    path.write_text(public_pem(private).replace("PUBLIC", "PRIVATE"))
    with pytest.raises(ConfigurationError, match="WEB_SESSION_KEYS_FILE") as refused:
        web_session_keys(settings_with(tmp_path, WEB_SESSION_KEYS_FILE=str(path)))
    assert "MII" not in str(refused.value)
