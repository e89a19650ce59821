"""Several Rasa instances: each with its own action server, all on one Redis, emits shared through it."""

from __future__ import annotations

import pytest
import yaml

from recoverydesk.ops.stack import Stack, StackError, instances_from_env, workers_from_env
from recoverydesk.settings import ROOT, Settings


def _stack(tmp_path, instances: int, workers: int = 1) -> Stack:
    env = {
        "RASA_WORKERS": str(workers),
        "REDIS_URL": "redis://127.0.0.1:6390/0",
        "RECOVERYDESK_VAR_DIR": str(tmp_path),
        "SMTP_HOST": "127.0.0.1",
        "RECOVERYDESK_SECRET_KEY": "k" * 48,
        "RASA_TOKEN": "token-for-the-test",
    }
    return Stack(Settings.from_env(env, ROOT), ROOT / "models" / "unused.tar.gz", env, instances)


def test_each_rasa_instance_gets_its_own_action_server_and_port(tmp_path):
    stack = _stack(tmp_path, 3)
    names = [part.name for part in stack._plan()]
    assert names == ["helpdesk", "actions", "rasa", "actions-1", "rasa-1", "actions-2", "rasa-2"]
    assert len(set(stack.rasa_ports)) == 3 and stack.rasa_ports[0] == stack.settings.rasa_port
    assert len(set(stack.actions_ports)) == 3


def test_instances_share_redis_and_web_chat_emits(tmp_path):
    stack = _stack(tmp_path, 2)
    stack.run_dir.mkdir(parents=True)
    stack._write_runtime_files()
    first = yaml.safe_load((stack.run_dir / "endpoints.yml").read_text())
    second = yaml.safe_load((stack.run_dir / "endpoints-1.yml").read_text())
    assert first["action_endpoint"]["url"].endswith(f":{stack.actions_ports[0]}/webhook")
    assert second["action_endpoint"]["url"].endswith(f":{stack.actions_ports[1]}/webhook")
    assert first["tracker_store"] == second["tracker_store"]
    assert first["lock_store"] == second["lock_store"]
    assert first["lock_store"]["type"] == "bot.rasa_plugins.lock_store.AsyncRedisLockStore"
    credentials = yaml.safe_load((stack.run_dir / "credentials.yml").read_text())
    assert credentials["bot.channels.webchat.WebChatInput"]["redis_manager_url"] == "redis://127.0.0.1:6390/0"
    assert "bot.channels.secure_pages.SecurePages" in credentials


def test_one_instance_uses_the_project_credentials(tmp_path):
    stack = _stack(tmp_path, 1)
    rasa = [part for part in stack._plan() if part.name == "rasa"][0]
    assert rasa.argv[rasa.argv.index("--credentials") + 1] == str(ROOT / "credentials.yml")
    assert rasa.env["SANIC_WORKERS"] == "1"


def test_workers_of_one_rasa_server_share_emits_through_redis(tmp_path):
    stack = _stack(tmp_path, 1, workers=2)
    stack.run_dir.mkdir(parents=True)
    stack._write_runtime_files()
    [rasa] = [part for part in stack._plan() if part.name == "rasa"]
    assert rasa.env["SANIC_WORKERS"] == "2"
    assert rasa.argv[rasa.argv.index("--credentials") + 1] == str(stack.run_dir / "credentials.yml")
    credentials = yaml.safe_load((stack.run_dir / "credentials.yml").read_text())
    assert credentials["bot.channels.webchat.WebChatInput"]["redis_manager_url"] == "redis://127.0.0.1:6390/0"


@pytest.mark.parametrize("value", ["0", "x", "17"])
def test_a_bad_worker_count_is_refused_with_a_reason(value):
    with pytest.raises(StackError, match="RASA_WORKERS"):
        workers_from_env({"RASA_WORKERS": value})


@pytest.mark.parametrize("value", ["0", "x", "17"])
def test_a_bad_instance_count_is_refused_with_a_reason(value):
    with pytest.raises(StackError):
        instances_from_env({"RASA_INSTANCES": value})
