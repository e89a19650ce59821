"""Prints the intent report of `rasa test nlu` (macro F1 first), for `make nlu-eval`."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> int:
    report = json.loads(Path(path).read_text())
    macro = report["macro avg"]["f1-score"]
    print(f"Intent classification: accuracy {report['accuracy']:.3f}, macro F1 {macro:.3f}")
    for intent, scores in sorted(report.items()):
        if isinstance(scores, dict) and "support" in scores and intent not in ("macro avg", "weighted avg", "micro avg"):
            print(f"  {intent:36} F1 {scores['f1-score']:.3f}  (n={scores['support']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
