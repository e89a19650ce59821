"""`recoverydesk channels register`: Telegram's setWebhook and Messenger's page subscription at the
fake platform, and one clear sentence when a setting is missing or the platform fails."""

from __future__ import annotations

import os
import subprocess
import sys

from recoverydesk.ops.channel_registration import RegistrationFailed, register
from recoverydesk.settings import ROOT, Settings
from tests.support.messengers import TELEGRAM_SECRET, TELEGRAM_TOKEN


def settings_for(tmp_path, **env: str) -> Settings:
    return Settings.from_env({"RECOVERYDESK_VAR_DIR": str(tmp_path), "RECOVERYDESK_SECRET_KEY": "x" * 40, **env}, ROOT)


def test_telegram_is_told_our_url_its_secret_and_the_updates_we_handle(tmp_path, fake_platform):
    fake_platform.reset()
    settings = settings_for(
        tmp_path,
        TELEGRAM_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        TELEGRAM_API_URL=fake_platform.url,
        PUBLIC_BASE_URL="https://help.example.com",
    )
    said: list[str] = []
    register(settings, "telegram", said.append)
    [call] = fake_platform.received()
    assert call.path == f"/bot{TELEGRAM_TOKEN}/setWebhook"
    assert call.body == {
        "url": "https://help.example.com/webhooks/telegram/webhook",
        "secret_token": TELEGRAM_SECRET,
        "allowed_updates": ["message", "callback_query", "my_chat_member"],
    }
    assert TELEGRAM_SECRET not in " ".join(said) and "https://help.example.com/webhooks/telegram/webhook" in said[0]


def test_a_platform_that_is_down_or_a_missing_setting_is_one_clear_error(tmp_path, fake_platform):
    base = {"TELEGRAM_API_URL": fake_platform.url, "PUBLIC_BASE_URL": "https://help.example.com"}
    try:
        register(settings_for(tmp_path, **base), "telegram", print)
        raise AssertionError("registered without a token")
    except RegistrationFailed as exc:
        assert "TELEGRAM_TOKEN" in str(exc)
    fake_platform.reset()
    fake_platform.mode = "down"
    try:
        register(settings_for(tmp_path, TELEGRAM_TOKEN="1:a", TELEGRAM_WEBHOOK_SECRET="s", **base), "telegram", print)
        raise AssertionError("registered while the platform was down")
    except RegistrationFailed as exc:
        assert "setWebhook failed" in str(exc) and "503" in str(exc)
    finally:
        fake_platform.reset()
    official = settings_for(tmp_path, TELEGRAM_TOKEN="1:a", TELEGRAM_WEBHOOK_SECRET="s", PUBLIC_BASE_URL="http://x")
    try:
        register(official, "telegram", print)
        raise AssertionError("registered a plain HTTP URL with Telegram")
    except RegistrationFailed as exc:
        assert "HTTPS" in str(exc)


def test_the_command_exits_non_zero_with_one_sentence(tmp_path):
    env = {**os.environ, "RECOVERYDESK_VAR_DIR": str(tmp_path), "TELEGRAM_TOKEN": "", "TELEGRAM_WEBHOOK_SECRET": ""}
    done = subprocess.run(
        [sys.executable, "-m", "recoverydesk.ops.cli", "channels", "register", "telegram"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == "recoverydesk: Set TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET first."
