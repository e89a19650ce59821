"""Train the Rasa model only when the training data changed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional

TRAINING_INPUTS = ("config.yml", "domain.yml", "data")


class TrainingFailed(Exception):
    """`rasa train` exited with an error."""


def fingerprint(root: Path) -> str:
    """A hash of every file that shapes the model, so unchanged data never retrains."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path(root: Path) -> Path:
    return root / "models" / f"recoverydesk-{fingerprint(root)}.tar.gz"


TRAINING_NOTE = (
    "Training the Rasa model (data/, domain.yml or config.yml changed): this usually takes 2-4 minutes "
    "on a 2-core machine, longer when it is busy. Rasa's progress follows."
)


def ensure_model(root: Path, force: bool = False, say: Optional[Callable[[str], None]] = None) -> tuple[Path, bool]:
    """Returns the model for the current data and whether it had to be trained now; ``say`` hears
    ``TRAINING_NOTE`` before a training starts."""
    target = model_path(root)
    if target.exists() and not force:
        return target, False
    if say is not None:
        say(TRAINING_NOTE)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"),
            "train",
            "--fixed-model-name",
            target.name[: -len(".tar.gz")],
            "--out",
            str(target.parent),
            "--config",
            str(root / "config.yml"),
            "--domain",
            str(root / "domain.yml"),
            "--data",
            str(root / "data"),
        ],
        cwd=root,
    )
    if result.returncode != 0 or not target.exists():
        raise TrainingFailed("Training the model failed; see the output above.")
    return target, True
