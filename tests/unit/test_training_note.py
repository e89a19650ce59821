"""`recoverydesk train` / `up` say how long a training usually takes before one starts, and only then."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from recoverydesk.ops import training
from recoverydesk.settings import ROOT


def copy_training_inputs(tmp_path):
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def test_an_up_to_date_model_is_reused_without_a_note(tmp_path):
    root = copy_training_inputs(tmp_path)
    target = training.model_path(root)
    target.parent.mkdir()
    target.write_bytes(b"model")
    heard: list[str] = []
    assert training.ensure_model(root, say=heard.append) == (target, False)
    assert heard == []


def test_the_note_comes_before_a_training_starts(tmp_path, monkeypatch):
    root = copy_training_inputs(tmp_path)
    heard: list[str] = []

    def rasa_train(command, **_):
        assert heard == [training.TRAINING_NOTE] and "train" in command
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(training.subprocess, "run", rasa_train)
    with pytest.raises(training.TrainingFailed):
        training.ensure_model(root, say=heard.append)
    assert "2-4 minutes" in training.TRAINING_NOTE
