"""Prints the intent report of `rasa test nlu` (macro F1 first), for `make nlu-eval`, and a table
per language (issue 16): each example's language is the file it comes from (``data/nlu.yml`` is
English, ``data/nlu_<code>.yml`` the others); its outcome comes from ``intent_errors.json``."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import yaml

SUMMARY_ROWS = ("macro avg", "weighted avg", "micro avg")
TOP_CONFUSIONS = 10


def confusions(errors_path: Path) -> list[tuple[tuple[str, str], int]]:
    """The most frequent (expected, predicted) pairs among misclassified examples."""
    if not errors_path.exists():
        return []
    errors = json.loads(errors_path.read_text())
    pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    return pairs.most_common(TOP_CONFUSIONS)


def examples_by_language(data_dir: Path) -> dict[str, Counter[str]]:
    """language -> intent -> number of examples, from the per-language training files."""
    found: dict[str, Counter[str]] = {}
    for path in sorted(data_dir.glob("nlu*.yml")):
        code = path.stem.split("_", 1)[1] if "_" in path.stem else "en"
        counts = found.setdefault(code, Counter())
        for block in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            if "intent" in block:
                counts[block["intent"]] += sum(
                    1 for line in str(block.get("examples", "")).splitlines() if line.strip().startswith("- ")
                )
    return found


def language_of_text(data_dir: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(data_dir.glob("nlu*.yml")):
        code = path.stem.split("_", 1)[1] if "_" in path.stem else "en"
        for block in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    texts.setdefault(line.strip()[2:].strip(), code)
    return texts


def per_language(errors: list[dict], data_dir: Path) -> dict[str, tuple[float, float, int]]:
    """language -> (accuracy, macro F1, examples), every example counted right unless it is an error."""
    counts = examples_by_language(data_dir)
    languages = language_of_text(data_dir)
    missed: dict[str, Counter[str]] = {code: Counter() for code in counts}
    wrongly: dict[str, Counter[str]] = {code: Counter() for code in counts}
    for error in errors:
        code = languages.get(str(error.get("text", "")).strip())
        if code is None:
            continue
        missed[code][error["intent"]] += 1
        wrongly[code][error["intent_prediction"]["name"]] += 1
    table = {}
    for code, intents in counts.items():
        f1s = []
        for intent, support in intents.items():
            hits = support - missed[code][intent]
            precision = hits / (hits + wrongly[code][intent]) if hits + wrongly[code][intent] else 0.0
            recall = hits / support if support else 0.0
            f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        total = sum(intents.values())
        accuracy = 1 - sum(missed[code].values()) / total if total else 0.0
        table[code] = (accuracy, sum(f1s) / len(f1s) if f1s else 0.0, total)
    return table


def main(path: str, data_dir: str = "data") -> int:
    report_path = Path(path)
    report = json.loads(report_path.read_text())
    macro = report["macro avg"]["f1-score"]
    print(f"Intent classification: accuracy {report['accuracy']:.3f}, macro F1 {macro:.3f}")
    for intent, scores in sorted(report.items()):
        if isinstance(scores, dict) and "support" in scores and intent not in SUMMARY_ROWS:
            print(f"  {intent:36} F1 {scores['f1-score']:.3f}  (n={scores['support']})")
    errors_path = report_path.with_name("intent_errors.json")
    if errors_path.exists():
        print("Per language (5-fold cross-validation):")
        for code, (accuracy, f1, total) in sorted(
            per_language(json.loads(errors_path.read_text()), Path(data_dir)).items()
        ):
            print(f"  {code}  accuracy {accuracy:.3f}  macro F1 {f1:.3f}  (n={total})")
    pairs = confusions(errors_path)
    if pairs:
        print("Most frequent confusions (expected -> predicted):")
        for (expected, predicted), count in pairs:
            print(f"  {count:3}  {expected} -> {predicted}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
