import json

import numpy as np
import pytest

from classifiers.ml import KIND_BINARY, TrainingCancelled, TrainingConfig, evaluate, train_seed

from .synthetic import make_doc


def _corpus(seed: int = 0):
    rng = np.random.default_rng(seed)
    positives = [make_doc(rng, ["contract"]) for _ in range(50)]
    # The background hides some unlabelled positives, as real backgrounds do.
    background = [make_doc(rng, [str(rng.choice(["sport", "music", "weather"]))]) for _ in range(400)]
    background += [make_doc(rng, ["contract"]) for _ in range(40)]
    test_pos = [make_doc(rng, ["contract"]) for _ in range(60)]
    test_neg = [make_doc(rng, [str(rng.choice(["sport", "music", "weather"]))]) for _ in range(60)]
    return positives, background, test_pos, test_neg


def test_positives_and_background_only():
    positives, background, test_pos, test_neg = _corpus()
    model = train_seed(positives, background=background, config=TrainingConfig(seed=0))
    assert model.kind == KIND_BINARY and model.classes == ["match"]
    assert 0 < model.close_match_lower <= model.threshold < 1
    preds = model.predict(test_pos + test_neg)
    truth = ["match"] * len(test_pos) + ["not_match"] * len(test_neg)
    ev = evaluate(truth, preds, KIND_BINARY, [])
    assert ev["per_class"]["match"]["f1"] > 0.9
    scores = model.predict_scores(test_pos[:5])
    assert scores.shape == (5, 1) and ((scores >= 0) & (scores <= 1)).all()
    params = json.loads(json.dumps(model.params))
    assert params["mode"].startswith("seed") and params["threshold_method"]


def test_refuses_without_anything_to_contrast():
    positives, *_ = _corpus()
    with pytest.raises(ValueError, match="background"):
        train_seed(positives)
    with pytest.raises(ValueError):
        train_seed(positives[:3], background=["x y z"] * 10)


def test_negatives_without_background():
    positives, background, test_pos, test_neg = _corpus()
    negatives = [t for t in background if "contract" not in t][:100]
    model = train_seed(positives, negatives=negatives)
    assert model.params["n_background"] == 0 and model.params["n_negatives"] == 100
    assert sum(p == "match" for p in model.predict(test_pos)) > 50
    assert sum(p == "match" for p in model.predict(test_neg)) < 10


def test_reviewed_items_are_used_and_removed_from_background():
    positives, background, _test_pos, _test_neg = _corpus()
    reviewed = [(background[-1], True), (background[0], False)]
    model = train_seed(positives, background=background, reviewed=reviewed)
    assert model.params["n_positives"] == len(positives) + 1
    assert model.params["n_negatives"] == 1
    assert model.params["n_background"] == len(background) - 2


def test_seed_mode_is_deterministic():
    positives, background, test_pos, _ = _corpus()
    a = train_seed(positives, background=background).predict_scores(test_pos)
    b = train_seed(positives, background=background).predict_scores(test_pos)
    assert np.array_equal(a, b)


def test_seed_progress_and_cancel():
    positives, background, _, _ = _corpus()
    seen = []
    train_seed(positives, background=background, progress=lambda s, f: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == 1.0
    with pytest.raises(TrainingCancelled):
        train_seed(positives, background=background, should_cancel=lambda: True)
