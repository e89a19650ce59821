"""`python -m bench [--quick]`: the performance benchmark behind `make bench`.

Trains (once, cached under var/bench/) the bot `rasa init` creates, then measures our stack and
that reference bot on free loopback ports, prints a table and writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

import aiohttp
import socketio

from bench import initbot, report, runner
from bench.config import BenchConfig
from bench.memory import ProcessMonitor
from bench.runner import Results
from recoverydesk.ops.stack import StackError
from recoverydesk.ops.training import TrainingFailed
from recoverydesk.settings import ROOT

# What can stop one part of the run without being a bug in the benchmark itself.
PART_FAILURES = (
    StackError,
    TrainingFailed,
    initbot.InitBotError,
    RuntimeError,
    OSError,
    asyncio.TimeoutError,
    aiohttp.ClientError,
    socketio.exceptions.SocketIOError,
)


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1 and 10 only, shorter phases: a fast check")
    parser.add_argument(
        "--soak",
        type=float,
        metavar="SECONDS",
        help="length of the steady N=10 run at the end (default 60 s, none with --quick; issue 8's soak is --soak 600)",
    )
    parser.add_argument("--soak-only", action="store_true", help="only the soak, on our stack (no reference bot)")
    parser.add_argument(
        "--rasa-instances",
        type=int,
        default=1,
        metavar="N",
        help="run N Rasa servers, each with its own action server, on one Redis; each customer sticks to one of them",
    )
    parser.add_argument(
        "--rasa-workers",
        type=int,
        metavar="N",
        help="Sanic workers per Rasa server (RASA_WORKERS; default: as `make run`, 2 on a machine with 2+ cores)",
    )
    parser.add_argument(
        "--skip-reference", action="store_true", help="measure our stack only (no `rasa init` bot, so no ratios)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.rasa_instances <= 8:
        parser.error("--rasa-instances must be between 1 and 8")
    if args.rasa_workers is not None and not 1 <= args.rasa_workers <= 8:
        parser.error("--rasa-workers must be between 1 and 8")
    if args.soak is not None and args.soak < 0:
        parser.error("--soak must not be negative")
    return args


def config_of(args: argparse.Namespace) -> BenchConfig:
    config = BenchConfig.fast() if args.quick else BenchConfig.full()
    changes: dict = {"rasa_instances": args.rasa_instances}
    if args.soak is not None:
        changes["soak_seconds"] = args.soak
    elif args.soak_only:
        changes["soak_seconds"] = 600.0
    return dataclasses.replace(config, **changes)


def say(line: str) -> None:
    print(line, flush=True)


def git(*args: str) -> Optional[str]:
    """Output of a read-only git command in the project, or None."""
    try:
        found = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() if found.returncode == 0 else None


def commit() -> Optional[str]:
    """HEAD, marked `+changes` when the working tree differs from it (what was measured is not HEAD)."""
    head = git("rev-parse", "--short", "HEAD")
    changes = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}+changes" if head and changes else head


def meta(
    config: BenchConfig, started_at: datetime, load_average: tuple[float, ...], runtime: float, training: float
) -> dict:
    return {
        "started_at": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runtime_seconds": round(runtime, 1),
        "reference_training_seconds": round(training, 1),
        "quick": config.quick,
        "commit": commit(),
        "rasa_version": initbot.rasa_version(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load_average],
        "config": config.to_dict(),
    }


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    config = config_of(args)
    if args.rasa_workers is not None:
        os.environ["RASA_WORKERS"] = str(args.rasa_workers)  # the stack reads it as `make run` does
    started_at = datetime.now(timezone.utc)
    load_average = os.getloadavg()
    results = Results()
    skip_reference = args.skip_reference or args.soak_only
    project, training = (None, 0.0) if skip_reference else reference_project(results)
    began = time.monotonic()
    monitor = ProcessMonitor().start()
    try:
        failed = not attempt(
            "the stacks", lambda: runner.run(config, monitor, results, say, project, args.soak_only), results
        )
    finally:
        monitor.stop()
    info = meta(config, started_at, load_average, time.monotonic() - began, training)
    document = report.document_of(info, results.ours, results.reference, results.warnings)
    written = report.write(document)  # before rendering: a table that cannot be drawn loses no figures
    say("")
    say(report.render(document))
    say(f"\nwrote {written}")
    return 1 if failed else 0


def reference_project(results: Results) -> tuple[Optional[Path], float]:
    """The cached `rasa init` project (trained now if needed) and the seconds training took."""
    say("Reference bot (`rasa init`)")
    began = time.monotonic()
    try:
        project, trained = initbot.build(ROOT / "var", say=say)
    except (initbot.InitBotError, subprocess.TimeoutExpired, OSError) as exc:
        message = f"no reference bot, so no ratios: {exc}"
        results.warnings.append(message)
        say(f"  ! {message}")
        return None, 0.0
    say(f"  {'trained' if trained else 'cached'}: {project}")
    return project, (time.monotonic() - began if trained else 0.0)


def attempt(what: str, run: Callable[[], None], results: Results) -> bool:
    """Runs one part; if it fails, the report still shows what was measured and why the rest is missing."""
    try:
        run()
    except PART_FAILURES as exc:
        message = f"measuring {what} failed: {type(exc).__name__}: {exc}"
        results.warnings.append(message)
        say(f"  ! {message}")
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
