"""make nlu-eval prints a table per language (issue 16): each example's language is its file's."""

from recoverydesk.ops.nlu_report import per_language


def test_per_language_scores_count_each_error_against_its_own_language(tmp_path):
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n    - hi there\n'
        "- intent: goodbye\n  examples: |\n    - bye\n    - see you\n"
    )
    (tmp_path / "nlu_it.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - ciao\n    - buongiorno\n'
        "- intent: goodbye\n  examples: |\n    - arrivederci\n    - a presto\n"
    )
    errors = [{"text": "ciao", "intent": "greet", "intent_prediction": {"name": "goodbye"}}]
    table = per_language(errors, tmp_path)
    assert table["en"] == (1.0, 1.0, 4)
    accuracy, f1, total = table["it"]
    assert (accuracy, total) == (0.75, 4)
    # greet: precision 1, recall 0.5 -> 0.667; goodbye: precision 2/3, recall 1 -> 0.8
    assert abs(f1 - (2 / 3 + 0.8) / 2) < 1e-9
