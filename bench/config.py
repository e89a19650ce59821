"""How long and how hard each part of the benchmark runs: the full run and `--quick`."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class BenchConfig:
    levels: tuple[int, ...] = (1, 10, 50)  # concurrent web chat customers
    load_seconds: float = 24.0  # of load per level and bot, split into rounds
    rounds: int = 2  # alternating rounds per level: ours, reference, ours, reference
    max_conversations: int = 5000  # per level, whatever the duration
    turn_timeout: float = 10.0
    intake_concurrency: int = 50
    intake_seconds: float = 5.0
    intake_max_requests: int = 50_000
    handoff_messages: int = 50
    drift_conversations: int = 4
    drift_turns: int = 60
    drift_rounds: int = 2  # full conversations per staggered lane
    settle_seconds: float = 2.0  # idle time between phases
    rasa_instances: int = 1  # Rasa servers (each with an action server) sharing one Redis
    soak_seconds: float = 60.0  # a steady run at soak_users; 0 = none (issue 8 asks for 600)
    soak_users: int = 10
    webhook_rate: float = 50.0  # Telegram updates per second posted to the real webhook
    webhook_seconds: float = 10.0
    quick: bool = False

    @classmethod
    def full(cls) -> "BenchConfig":
        return cls()

    @classmethod
    def fast(cls) -> "BenchConfig":
        return cls(
            levels=(1, 10),
            load_seconds=8.0,
            rounds=1,
            intake_seconds=2.0,
            handoff_messages=20,
            drift_conversations=2,
            drift_rounds=1,
            settle_seconds=1.0,
            soak_seconds=0.0,
            webhook_seconds=3.0,
            quick=True,
        )

    def to_dict(self) -> dict:
        return asdict(self)
