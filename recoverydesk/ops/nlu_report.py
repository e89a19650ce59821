"""Prints the intent report of `rasa test nlu` (macro F1 first), for `make nlu-eval`."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

SUMMARY_ROWS = ("macro avg", "weighted avg", "micro avg")
TOP_CONFUSIONS = 10


def confusions(errors_path: Path) -> list[tuple[tuple[str, str], int]]:
    """The most frequent (expected, predicted) pairs among misclassified examples."""
    if not errors_path.exists():
        return []
    errors = json.loads(errors_path.read_text())
    pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    return pairs.most_common(TOP_CONFUSIONS)


def main(path: str) -> int:
    report_path = Path(path)
    report = json.loads(report_path.read_text())
    macro = report["macro avg"]["f1-score"]
    print(f"Intent classification: accuracy {report['accuracy']:.3f}, macro F1 {macro:.3f}")
    for intent, scores in sorted(report.items()):
        if isinstance(scores, dict) and "support" in scores and intent not in SUMMARY_ROWS:
            print(f"  {intent:36} F1 {scores['f1-score']:.3f}  (n={scores['support']})")
    pairs = confusions(report_path.with_name("intent_errors.json"))
    if pairs:
        print("Most frequent confusions (expected -> predicted):")
        for (expected, predicted), count in pairs:
            print(f"  {count:3}  {expected} -> {predicted}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
