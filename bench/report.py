"""The readable table on stdout, the issue's targets, and bench/results/latest.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from bench.stats import ratio

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PROCESSES = ("rasa", "actions", "helpdesk", "redis", "bench")


@dataclass(frozen=True)
class Target:
    name: str
    measured: Optional[float]
    limit: float
    at_least: bool  # True: measured >= limit is met; False: measured <= limit is met

    @property
    def met(self) -> Optional[bool]:
        if self.measured is None:
            return None
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    def to_dict(self) -> dict:
        return {
            "target": self.name,
            "measured": self.measured,
            "limit": self.limit,
            "at_least": self.at_least,
            "met": self.met,
        }


def _get(data: dict, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def comparisons(ours: dict, reference: dict) -> dict[str, dict]:
    """Our figures as ratios to the reference bot's, per load level."""
    compared = {}
    for level, mine in (ours.get("load") or {}).items():
        theirs = (reference.get("load") or {}).get(level)
        if theirs is None:
            continue
        compared[level] = {
            "turns_per_s_ratio": ratio(mine["turns_per_s"], theirs["turns_per_s"]),
            "server_cpu_per_turn_ratio": ratio(
                mine.get("server_cpu_ms_per_turn"), theirs.get("server_cpu_ms_per_turn")
            ),
            "p50_ratio": ratio(mine["latency"]["p50_ms"], theirs["latency"]["p50_ms"]),
            "p95_ratio": ratio(mine["latency"]["p95_ms"], theirs["latency"]["p95_ms"]),
        }
    return compared


def targets(ours: dict, compared: dict) -> list[Target]:
    intake_ok = _get(ours, "ticket_intake", "requests_per_s")
    intake_errors = _get(ours, "ticket_intake", "errors") or 0
    if intake_ok is not None and intake_errors:
        total = _get(ours, "ticket_intake", "requests") or 1
        intake_ok = round(intake_ok * (total - intake_errors) / total, 1)
    return [
        Target("turns/s at N=10 vs rasa init bot (×)", _get(compared, "10", "turns_per_s_ratio"), 1.5, True),
        Target("p95 turn latency at N=10 (ms)", _get(ours, "load", "10", "latency", "p95_ms"), 250, False),
        Target("errors at N=50", _get(ours, "load", "50", "errors"), 0, False),
        Target(
            "p50 late / early turns of a 60-turn conversation (×)",
            _get(ours, "conversation_length", "late_over_early"),
            1.2,
            False,
        ),
        Target("ticket intake (successful requests/s)", intake_ok, 1000, True),
        Target("handoff p95 (ms)", _get(ours, "handoff", "latency", "p95_ms"), 500, False),
        Target("soak: errors (issue 8)", _get(ours, "soak", "errors"), 0, False),
        Target("soak: server memory growth (%, issue 8)", _get(ours, "soak", "servers_growth_pct"), 10, False),
    ]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_fmt(c) for c in row] for row in rows]
    if not cells:
        return "  (not measured in this run)"
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda items: "  ".join(item.rjust(w) for item, w in zip(items, widths, strict=False))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _levels(ours: dict, reference: dict) -> Iterator[tuple[str, dict, dict]]:
    """Each load level of our run: the level, our results at it, and the reference's ({} if not run)."""
    theirs = reference.get("load") or {}
    for level, mine in (ours.get("load") or {}).items():
        yield level, mine, theirs.get(level, {})


def _load_rows(ours: dict, reference: dict, compared: dict) -> list[list[Any]]:
    rows = []
    for level, mine, theirs in _levels(ours, reference):
        cmp = compared.get(level, {})
        lat, ref_lat = mine["latency"], theirs.get("latency", {})
        rows.append(
            [
                level,
                mine["turns_per_s"],
                lat["p50_ms"],
                lat["p95_ms"],
                lat["p99_ms"],
                mine["errors"],
                mine.get("server_cpu_ms_per_turn"),
                theirs.get("turns_per_s"),
                ref_lat.get("p50_ms"),
                ref_lat.get("p95_ms"),
                ref_lat.get("p99_ms"),
                theirs.get("errors"),
                theirs.get("server_cpu_ms_per_turn"),
                cmp.get("turns_per_s_ratio"),
                cmp.get("p95_ratio"),
                cmp.get("server_cpu_per_turn_ratio"),
            ]
        )
    return rows


def _memory_rows(ours: dict, reference: dict) -> list[list[Any]]:
    return [
        [level, *(mine.get("peak_rss_mib", {}).get(p) for p in PROCESSES), ref.get("peak_rss_mib", {}).get("rasa")]
        for level, mine, ref in _levels(ours, reference)
    ]


def _cpu_rows(ours: dict, reference: dict) -> list[list[Any]]:
    return [
        [
            level,
            mine["duration_s"],
            *(mine.get("cpu_seconds", {}).get(p) for p in PROCESSES),
            mine.get("other_processes_cpu_s"),
            mine.get("machine_busy_pct"),
            ref.get("cpu_seconds", {}).get("rasa"),
            ref.get("other_processes_cpu_s"),
            ref.get("machine_busy_pct"),
        ]
        for level, mine, ref in _levels(ours, reference)
    ]


def render(document: dict) -> str:
    ours, reference = document["ours"], document["reference"]
    compared = document["comparison"]
    meta = document["meta"]
    out: list[str] = [
        f"Recovery Desk benchmark: {meta['started_at']}, rasa {meta['rasa_version']}, {meta['cpus']} CPUs, "
        f"{'quick' if meta['quick'] else 'full'} run in {meta['runtime_seconds']:.0f} s "
        f"(commit {meta['commit'] or '?'}), {ours.get('rasa_instances', 1)} Rasa instance(s) "
        f"× {ours.get('rasa_workers', 1)} worker(s)",
        "",
        "Web chat turns: N customers, closed loop, no think time; latency = emit → last expected reply (ms);",
        "cpu/turn = CPU ms all server processes spent per answered turn (steadier than turns/s on a busy machine)",
        table(
            [
                "N",
                "turns/s",
                "p50",
                "p95",
                "p99",
                "errors",
                "cpu/turn",
                "init turns/s",
                "init p50",
                "init p95",
                "init p99",
                "init errors",
                "init cpu/turn",
                "turns/s ×",
                "p95 ×",
                "cpu/turn ×",
            ],
            _load_rows(ours, reference, compared),
        ),
        "",
        "Peak RSS per process during each load level (MiB, sampled every 0.5 s)",
        table(["N", *PROCESSES, "init rasa"], _memory_rows(ours, reference)),
        "",
        "CPU seconds per process during each load level; 'other' is the rest of this shared machine",
        table(
            ["N", "seconds", *PROCESSES, "other", "busy %", "init rasa", "init other", "init busy %"],
            _cpu_rows(ours, reference),
        ),
        "",
    ]
    out += _other_sections(ours, reference)
    out += [
        "Targets (from the issue; measured, not asserted)",
        table(
            ["target", "measured", "limit", "met"],
            [
                [t["target"], t["measured"], t["limit"], {True: "yes", False: "NO", None: "–"}[t["met"]]]
                for t in document["targets"]
            ],
        ),
        "",
    ]
    for error_source, label in ((ours, "ours"), (reference, "rasa init")):
        for level, summary in (error_source.get("load") or {}).items():
            for example in summary.get("error_examples", []):
                out.append(f"  error ({label}, N={level}): {example}")
    out += [f"  ! {warning}" for warning in document["warnings"]]
    return "\n".join(out)


def _drift_row(label: str, drift: dict) -> list[Any]:
    return [
        f"{label}: {drift['conversations']} lanes × {drift.get('rounds', 1)} × {drift['turns']} turns",
        f"p50 turns {drift['early_turns']}: {_fmt(drift['p50_early_ms'])} ms → "
        f"{drift['late_turns']}: {_fmt(drift['p50_late_ms'])} ms (×{_fmt(drift['late_over_early'])})",
        None,
        None,
        drift["errors"],
    ]


def _latency_row(what: str, figures: str, measured: dict) -> list[Any]:
    """A row of the other measurements: what ran, its figures, p50 and p95 latency, and errors."""
    return [what, figures, measured["latency"]["p50_ms"], measured["latency"]["p95_ms"], measured["errors"]]


def _other_sections(ours: dict, reference: dict) -> list[str]:
    intake, handoff = ours.get("ticket_intake") or {}, ours.get("handoff") or {}
    rows = []
    if intake:
        rows.append(
            _latency_row(
                "ticket intake (signed POST, 50 at once)",
                f"{_fmt(intake['requests_per_s'])} req/s, {_fmt(intake['created_per_s'])} created/s",
                intake,
            )
        )
    if handoff and "latency" in handoff:
        rows.append(
            _latency_row(
                "handoff: customer emit → console SSE",
                f"{handoff['delivered']}/{handoff['messages']} delivered",
                handoff,
            )
        )
    soak = ours.get("soak") or {}
    if soak:
        rows.append(
            _latency_row(
                f"soak: {soak['users']} customers for {_fmt(soak['seconds'])} s",
                f"{_fmt(soak['turns_per_s'])} turns/s, server memory {_fmt(soak['servers_growth_pct'])} %",
                soak,
            )
        )
    for label, source in (("ours", ours), ("rasa init", reference)):
        if source.get("conversation_length"):
            rows.append(_drift_row(label, source["conversation_length"]))
    if not rows:
        return []
    return ["Helpdesk and long conversations", table(["measure", "result", "p50 ms", "p95 ms", "errors"], rows), ""]


def write(document: dict, directory: Path = RESULTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    latest = directory / "latest.json"
    text = json.dumps(document, indent=2, sort_keys=False, default=_jsonable)
    stamp = document["meta"]["started_at"].replace(":", "").replace("-", "")
    (directory / f"run-{stamp}.json").write_text(text)
    tmp = latest.with_suffix(".json.tmp")
    tmp.write_text(text)
    tmp.replace(latest)
    return latest


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def document_of(meta: dict, ours: dict, reference: dict, warnings: list[str]) -> dict:
    compared = comparisons(ours, reference)
    return {
        "meta": meta,
        "ours": ours,
        "reference": reference,
        "comparison": compared,
        "targets": [t.to_dict() for t in targets(ours, compared)],
        "warnings": warnings,
    }
