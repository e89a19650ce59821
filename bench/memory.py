"""Peak resident memory and CPU time per server process, per benchmark phase.

A background thread samples RSS every half second. Each watched process counts with its
children unless told otherwise (the bench process itself is the parent of every server, so it
is watched alone). CPU seconds are differences of psutil's cpu_times across the phase and show
which process saturates the two cores; the whole machine's busy time shows how much of it went
to other tenants of a shared machine. A phase may be entered several times (rounds): its peaks
are the highest seen and its CPU times add up.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

import psutil

SAMPLE_SECONDS = 0.5
MIB = 1024 * 1024


def _safe(read: Callable[[], float]) -> float:
    """The value read, or 0 when the process has gone or is not ours to read."""
    try:
        return read()
    except psutil.Error:
        return 0


@dataclass(frozen=True)
class Watched:
    process: psutil.Process
    with_children: bool

    def members(self) -> list[psutil.Process]:
        try:
            children = self.process.children(recursive=True) if self.with_children else []
        except psutil.Error:
            return []
        return [self.process, *children]

    def rss(self) -> int:
        return int(sum(_safe(lambda m=member: m.memory_info().rss) for member in self.members()))

    def cpu_seconds(self) -> float:
        def used(member: psutil.Process) -> float:
            times = member.cpu_times()
            return times.user + times.system

        return sum(_safe(lambda m=member: used(m)) for member in self.members())


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (all cores)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    total = sum(times)
    return total - idle, total


@dataclass
class PhaseUsage:
    peak_rss: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    machine_total: float = 0.0


class ProcessMonitor:
    def __init__(self, interval: float = SAMPLE_SECONDS) -> None:
        self.interval = interval
        self._watched: dict[str, Watched] = {}
        self._phases: dict[str, PhaseUsage] = {}
        self._phase: Optional[str] = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def watch(self, name: str, pid: int, with_children: bool = True) -> None:
        with self._lock:
            self._watched[name] = Watched(psutil.Process(pid), with_children)

    def forget(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._watched.pop(name, None)

    def start(self) -> "ProcessMonitor":
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        watched = self._snapshot()
        cpu_before = {n: w.cpu_seconds() for n, w in watched.items()}
        busy_before, total_before = machine_cpu()
        with self._lock:
            usage = self._phases.setdefault(name, PhaseUsage())
            self._phase = name
        self.sample()
        try:
            yield
        finally:
            self.sample()
            with self._lock:
                self._phase = None
            busy_after, total_after = machine_cpu()
            for n, w in watched.items():
                usage.cpu[n] = usage.cpu.get(n, 0.0) + w.cpu_seconds() - cpu_before[n]
            usage.machine_busy += busy_after - busy_before
            usage.machine_total += total_after - total_before

    def peaks_mib(self, phase: str, names: Optional[Iterable[str]] = None) -> dict[str, float]:
        with self._lock:
            usage = self._phases.get(phase, PhaseUsage())
            return {n: round(rss / MIB, 1) for n, rss in usage.peak_rss.items() if names is None or n in names}

    def cpu_seconds(self, phase: str, names: Optional[Iterable[str]] = None) -> dict[str, float]:
        usage = self._phases.get(phase, PhaseUsage())
        return {n: round(s, 2) for n, s in usage.cpu.items() if names is None or n in names}

    def machine(self, phase: str) -> dict[str, float]:
        """How busy the whole machine was, and how much of that was none of the watched processes."""
        usage = self._phases.get(phase, PhaseUsage())
        watched = sum(usage.cpu.values())
        return {
            "machine_busy_pct": round(100 * usage.machine_busy / usage.machine_total, 1)
            if usage.machine_total
            else 0.0,
            "other_processes_cpu_s": round(max(usage.machine_busy - watched, 0.0), 2),
        }

    def rss_now(self, names: Optional[Iterable[str]] = None) -> dict[str, int]:
        """Resident bytes of each watched process (with its children) right now."""
        wanted = None if names is None else set(names)
        return {name: w.rss() for name, w in self._snapshot().items() if wanted is None or name in wanted}

    def sample(self) -> None:
        with self._lock:
            phase = self._phase
        if phase is None:
            return
        sizes = {name: watched.rss() for name, watched in self._snapshot().items()}
        with self._lock:
            peaks = self._phases[phase].peak_rss
            for name, rss in sizes.items():
                peaks[name] = max(peaks.get(name, 0), rss)

    def _snapshot(self) -> dict[str, Watched]:
        with self._lock:
            return dict(self._watched)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()
