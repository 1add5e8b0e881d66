import json
import math

import pytest

from classifiers.ml import (
    KIND_BINARY,
    KIND_MULTI,
    KIND_SINGLE,
    binomial_ci,
    evaluate,
    recommend_republish,
    threshold_curve,
)

AZURE_CLASSES = ["action", "comedy", "romance"]


def test_azure_worked_example_counts_every_missed_label():
    """Azure's "evaluation metrics" page (custom text classification) example, five documents.

    doc  actual            predicted
    1    action, comedy    comedy
    2    action            action
    3    romance           romance
    4    romance, comedy   romance
    5    comedy            action

    Per class (one-vs-rest counts):
      action:  TP 1 (doc 2), FP 1 (doc 5), FN 1 (doc 1)          -> P 0.5, R 0.5, F1 0.5
      comedy:  TP 1 (doc 1), FP 0,         FN 2 (docs 4 and 5)   -> P 1.0, R 1/3, F1 0.5
      romance: TP 2 (docs 3, 4), FP 0,     FN 0                  -> F1 1.0
    Model level, from the SUMMED counts: TP 4, FP 1, FN 3 (the page counts FN 2 and prints
    recall 0.67, F1 0.73): precision 4/5 = 0.8, recall 4/7 = 0.571, F1 = 8/12 = 0.667.
    """
    y_true = [["action", "comedy"], ["action"], ["romance"], ["romance", "comedy"], ["comedy"]]
    y_pred = [["comedy"], ["action"], ["romance"], ["romance"], ["action"]]
    ev = evaluate(y_true, y_pred, KIND_MULTI, AZURE_CLASSES)

    comedy = ev["per_class"]["comedy"]
    assert (comedy["tp"], comedy["fp"], comedy["fn"]) == (1, 0, 2)
    assert comedy["f1"] == pytest.approx(0.50)
    action = ev["per_class"]["action"]
    assert (action["tp"], action["fp"], action["fn"]) == (1, 1, 1)
    assert action["f1"] == pytest.approx(0.50)
    assert ev["per_class"]["romance"]["f1"] == pytest.approx(1.0)

    micro = ev["micro"]
    assert (micro["tp"], micro["fp"], micro["fn"]) == (4, 1, 3)
    assert micro["precision"] == pytest.approx(0.8)
    assert round(micro["recall"], 3) == 0.571
    assert round(micro["f1"], 3) == 0.667
    assert round(micro["recall"], 2) != 0.67 and round(micro["f1"], 2) != 0.73  # the page's figures
    assert ev["macro"]["f1"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert ev["top_confusions"][0] == {"actual": "comedy", "predicted": "action", "count": 1}
    json.dumps(ev)


def test_single_label_hand_computed():
    classes = ["a", "b", "c"]
    y_true = ["a", "a", "a", "b", "b", "c"]
    y_pred = ["a", "a", "b", "b", "c", "c"]
    ev = evaluate(y_true, y_pred, KIND_SINGLE, classes)
    assert ev["confusion_matrix"]["matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert ev["confusion_matrix"]["labels"] == classes
    a, b, c = (ev["per_class"][k] for k in classes)
    assert (a["tp"], a["fp"], a["fn"], a["tn"], a["support"]) == (2, 0, 1, 3, 3)
    assert (b["tp"], b["fp"], b["fn"], b["tn"]) == (1, 1, 1, 3)
    assert a["precision"] == 1.0 and a["recall"] == pytest.approx(2 / 3) and a["f1"] == pytest.approx(0.8)
    assert b["f1"] == pytest.approx(0.5)
    assert c["precision"] == 0.5 and c["recall"] == 1.0 and c["f1"] == pytest.approx(2 / 3)
    assert ev["accuracy"] == pytest.approx(4 / 6)
    # single-label: micro from summed counts equals accuracy
    assert ev["micro"]["f1"] == pytest.approx(ev["accuracy"])
    assert ev["macro"]["f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    json.dumps(ev)


def test_macro_ignores_classes_absent_from_truth_and_predictions():
    ev = evaluate(["a", "b"], ["a", "b"], KIND_SINGLE, ["a", "b", "never"])
    assert ev["macro"]["f1"] == 1.0
    assert ev["macro"]["n_classes"] == 2
    assert ev["per_class"]["never"]["f1"] == 0.0


def test_binary_accepts_all_negative_spellings():
    y_true = ["match", "match", "not_match", "not_match"]
    y_pred = ["match", "close_match", "no_match", "match"]
    ev = evaluate(y_true, y_pred, KIND_BINARY, [])
    m = ev["per_class"]["match"]
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (1, 1, 1, 1)
    assert ev["accuracy"] == 0.5
    assert ev["confusion_matrix"]["matrix"] == [[1, 1], [1, 1]]


def test_evaluate_rejects_unknown_classes_and_length_mismatch():
    with pytest.raises(ValueError):
        evaluate(["a"], ["zzz"], KIND_SINGLE, ["a"])
    with pytest.raises(ValueError):
        evaluate(["a", "a"], ["a"], KIND_SINGLE, ["a"])


def test_threshold_curve_points():
    curve = threshold_curve([1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1])
    assert [p["threshold"] for p in curve] == [0.1, 0.4, 0.8, 0.9]
    top = curve[-1]
    assert top == {
        "threshold": 0.9,
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "n_positive_predicted": 1,
    }
    at_04 = curve[1]
    assert at_04["n_positive_predicted"] == 3 and at_04["recall"] == 1.0
    assert at_04["precision"] == pytest.approx(2 / 3)
    assert curve[0]["n_positive_predicted"] == 4
    thinned = threshold_curve([i % 2 for i in range(1000)], [i / 1000 for i in range(1000)], max_points=50)
    assert len(thinned) <= 50
    json.dumps(curve)


def test_threshold_curve_ties_form_one_point():
    curve = threshold_curve([1, 0, 1], [0.5, 0.5, 0.2])
    assert [p["n_positive_predicted"] for p in curve] == [3, 2]


def test_binomial_ci_wilson_known_values():
    low, high = binomial_ci(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = binomial_ci(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = binomial_ci(10, 10)
    assert high == 1.0 and low == pytest.approx(0.7225, abs=1e-4)
    low, high = binomial_ci(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    low99, high99 = binomial_ci(81, 263, confidence=0.99)
    assert low99 < low and high99 > high
    assert binomial_ci(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("published", "retrained", "action"),
    [
        ({"accuracy": 0.90, "f1": 0.900}, {"accuracy": 0.92, "f1": 0.910}, "republish"),  # both rose
        ({"accuracy": 0.90, "f1": 0.900}, {"accuracy": 0.92, "f1": 0.897}, "republish"),  # small F1 drop
        ({"accuracy": 0.90, "f1": 0.900}, {"accuracy": 0.92, "f1": 0.895}, "republish"),  # exactly 0.005
        (
            {"accuracy": 0.80, "f1": 0.805},
            {"accuracy": 0.81, "f1": 0.800},
            "republish",
        ),  # 0.005, other floats
        ({"accuracy": 0.90, "f1": 0.900}, {"accuracy": 0.92, "f1": 0.8949}, "more_feedback"),  # > 0.005
        ({"accuracy": 0.90, "f1": 0.900}, {"accuracy": 0.90, "f1": 0.910}, "republish"),  # held, F1 rose
        ({"accuracy": 0.90, "f1": 0.900}, {"accuracy": 0.90, "f1": 0.900}, "more_feedback"),  # no change
        ({"accuracy": 0.90, "f1": 0.900}, {"accuracy": 0.90, "f1": 0.890}, "more_feedback"),  # held, F1 fell
        ({"accuracy": 0.90, "f1": 0.900}, {"accuracy": 0.89, "f1": 0.950}, "more_feedback"),  # accuracy fell
    ],
)
def test_recommend_republish_branches(published, retrained, action):
    out = recommend_republish(published, retrained)
    assert out["action"] == action, out
    assert out["reason"]
    json.dumps(out)


def test_recommend_republish_accuracy_held_despite_float_noise():
    # 0.1 + 0.2 != 0.3 in floating point; still "held".
    out = recommend_republish({"accuracy": 0.3, "f1": 0.5}, {"accuracy": 0.1 + 0.2, "f1": 0.6})
    assert out["action"] == "republish"


def test_recommend_republish_accepts_evaluate_results():
    old = evaluate(
        ["match", "not_match", "match", "not_match"],
        ["match", "match", "no_match", "no_match"],
        KIND_BINARY,
        [],
    )
    new = evaluate(
        ["match", "not_match", "match", "not_match"],
        ["match", "no_match", "match", "no_match"],
        KIND_BINARY,
        [],
    )
    out = recommend_republish(old, new)
    assert out["action"] == "republish"
    assert math.isclose(out["accuracy_retrained"], 1.0)
