"""What `make` would run for a fresh clone (`make -n`, nothing executed): named set-up steps with their
durations, pip's own progress for the big install from both hash-checked locks, and `make test`
training the model (when its inputs changed), running the lint and installing promtool before its two
groups."""

from __future__ import annotations

import subprocess

from recoverydesk.settings import ROOT


def dry_run(*args: str) -> str:
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_fresh_set_up_names_each_step_and_shows_pips_progress(tmp_path):
    venv = tmp_path / "venv"
    plan = dry_run("-B", f"VENV={venv}", f"{venv}/bin/.installed")
    steps = [line for line in plan.splitlines() if "==> Set-up" in line]
    assert [f"Set-up {n}/4" in step for n, step in enumerate(steps, 1)] == [True] * 4, plan
    assert plan.count("done in") == 4
    [install] = [line for line in plan.splitlines() if "-r requirements.lock" in line]
    assert "--require-hashes" in install and "-r requirements-dev.lock" in install and "--quiet" not in install
    assert "--no-deps -e ." in plan


def test_make_test_trains_lints_and_installs_promtool_before_its_two_groups():
    plan = dry_run("-B", "test", "TEST_JOBS=1")
    train, lint, promtool = plan.index("recoverydesk train"), plan.index("mypy --strict"), plan.index("promtool")
    groups = plan.index("--ignore=tests/e2e")
    assert train < groups and lint < groups and promtool < groups
    assert "pytest -q tests/e2e" in plan
