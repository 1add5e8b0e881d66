import json
import re

import numpy as np
import pytest

from classifiers.ml import (
    KIND_BINARY,
    KIND_MULTI,
    KIND_SINGLE,
    ArtifactError,
    TrainedModel,
    TrainingCancelled,
    TrainingConfig,
    evaluate,
    learning_curve,
    likely_mistakes,
    load_model,
    out_of_fold_scores,
    save_model,
    stratified_split,
    train,
)
from classifiers.ml.features import TOKEN_RE, Analyzer, HashedTfidf

from .synthetic import multi_label, single_label

FAST = TrainingConfig(seed=0, time_budget_s=5.0)


@pytest.fixture(scope="module")
def single():
    texts, labels, classes = single_label()
    model = train(texts, labels, KIND_SINGLE, classes, FAST)
    return texts, labels, classes, model


def test_single_label_learns_and_scores_are_probabilities(single):
    _texts, _labels, classes, model = single
    assert model.kind == KIND_SINGLE and model.classes == classes
    probe = ["sportword1 sportword2 filler3", "moneyword4 moneyword5", "musicword0 musicword7 filler9"]
    assert model.predict(probe) == ["sport", "money", "music"]
    scores = model.predict_scores(probe)
    assert scores.shape == (3, 3)
    assert np.allclose(scores.sum(axis=1), 1.0)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert model.predict_scores([]).shape == (0, 3)


def test_params_are_json_and_record_the_choice(single):
    model = single[3]
    text = json.dumps(model.params)
    params = json.loads(text)
    assert params["chosen_candidate"] and params["choice_reason"]
    assert params["estimator"]["loss"] == "modified_huber"
    assert params["n_features"] > 0
    assert "scikit-learn" in params["library_versions"]
    assert any(c["status"] == "evaluated" for c in params["candidates"])


def test_same_seed_same_scores():
    texts, labels, classes = single_label(n_per_class=30)
    a = train(texts, labels, KIND_SINGLE, classes, FAST).predict_scores(texts[:20])
    b = train(texts, labels, KIND_SINGLE, classes, FAST).predict_scores(texts[:20])
    assert np.array_equal(a, b)


def test_progress_is_monotone_and_reaches_one():
    texts, labels, classes = single_label(n_per_class=20)
    seen = []
    train(texts, labels, KIND_SINGLE, classes, FAST, progress=lambda stage, f: seen.append((stage, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and seen[-1][0] == "done"
    assert len(seen) >= 5
    assert all(isinstance(s, str) for s, _ in seen)


@pytest.mark.parametrize("after", [0, 3])
def test_cancel_raises(after):
    texts, labels, classes = single_label(n_per_class=20)
    calls = {"n": 0}

    def should_cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > after

    with pytest.raises(TrainingCancelled):
        train(texts, labels, KIND_SINGLE, classes, FAST, should_cancel=should_cancel)


def test_explain_and_spans(single):
    model = single[3]
    text = "Sportword1 filler2, sportword3! Moneyword1 filler4 sportword1"
    terms = model.explain(text, "sport", n=50)
    assert terms and terms[0][1] > 0
    top_words = [t for t, _ in terms[:3]]
    assert any(w.startswith("sportword") for w in top_words)
    spans = model.explain_spans(text, "sport")
    assert spans
    last = -1
    for start, end, weight in spans:
        assert 0 <= start < end <= len(text)
        assert start >= last  # ordered, non-overlapping
        last = end
        assert TOKEN_RE.fullmatch(text[start:end])
        assert isinstance(weight, float)
    # Spans split the term contributions exactly.
    total_terms = sum(w for _, w in model.explain(text, "sport", n=10_000))
    assert sum(w for _, _, w in spans) == pytest.approx(total_terms, rel=1e-5, abs=1e-6)
    assert model.explain("", "sport") == [] and model.explain_spans("") == []
    with pytest.raises(ValueError):
        model.explain(text, "nope")


def test_spans_keep_offsets_with_case_changing_characters():
    analyzer = Analyzer(lowercase=True)
    text = "İstanbul ŞEHİR and straße"  # 'İ'.lower() is two characters
    for term, start, end in analyzer.token_spans(text):
        assert text[start:end].lower() == term
    assert [t for t, _, _ in analyzer.token_spans(text)] == analyzer.tokens(text)


def test_top_terms_are_the_topic_words(single):
    model = single[3]
    top = model.top_terms(5)
    assert set(top) == {"sport", "money", "music"}
    for cls, terms in top.items():
        assert len(terms) == 5
        assert sum(t.startswith(f"{cls}word") for t, _ in terms) >= 3
        weights = [w for _, w in terms]
        assert weights == sorted(weights, reverse=True)


def test_max_chars_prefix_only():
    texts, labels, classes = single_label(n_per_class=20)
    model = train(texts, labels, KIND_SINGLE, classes, TrainingConfig(max_chars=50, time_budget_s=5))
    base = "sportword1 sportword2 " + "filler1 " * 10
    assert len(base) > 50
    a = model.predict_scores([base])
    b = model.predict_scores([base + "moneyword1 " * 50])
    assert np.array_equal(a, b)


def test_hash_terms_match_the_training_hasher():
    vec = HashedTfidf(Analyzer(), n_features=2**18, min_df=1)
    text = "Alpha beta, gamma! alpha"
    counts = vec.hash_counts([text])
    terms = vec.analyzer(text)
    assert sorted(set(vec.hash_terms(list(set(terms))).tolist())) == sorted(counts.indices.tolist())


def test_multi_label_thresholds_and_predictions():
    texts, labels, classes = multi_label()
    model = train(texts, labels, KIND_MULTI, classes, FAST)
    assert model.thresholds is not None and len(model.thresholds) == 4
    assert set(model.params["thresholds"]) == set(classes)
    preds = model.predict(texts[:50])
    assert all(isinstance(p, list) for p in preds)
    ev = evaluate(labels[:50], preds, KIND_MULTI, classes)
    assert ev["micro"]["f1"] > 0.8
    scores = model.predict_scores(texts[:5])
    assert scores.shape == (5, 4) and ((scores >= 0) & (scores <= 1)).all()
    assert model.predict(["filler1 filler2 filler3"]) in ([[]], [["red"]], [["green"]], [["blue"]])
    json.dumps(model.params)


def test_binary_trainable_with_settable_threshold():
    texts, labels, _ = single_label(n_per_class=40, classes=("fraud", "other", "misc"))
    y = ["match" if lab == "fraud" else "not_match" for lab in labels]
    model = train(texts, y, KIND_BINARY, ["match", "not_match"], FAST)
    assert model.classes == ["match"]
    assert 0 < model.threshold < 1 and model.close_match_lower <= model.threshold
    scores = model.predict_scores(texts[:10])
    assert scores.shape == (10, 1)
    assert np.array_equal(model.match_scores(texts[:10]), scores[:, 0])
    preds = model.predict(texts)
    assert set(preds) <= {"match", "close_match", "no_match"}
    ev = evaluate(y, preds, KIND_BINARY, [])
    assert ev["per_class"]["match"]["f1"] > 0.9
    model.threshold = 1.01
    model.close_match_lower = 1.0
    assert set(model.predict(texts[:10])) == {"no_match"}
    model.threshold, model.close_match_lower = 0.0, 0.0
    assert set(model.predict(texts[:10])) == {"match"}
    assert "match" in model.top_terms(3) and "not_match" in model.top_terms(3)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError):
        train(["a", "b", "c", "d"], ["x", "x", "x", "x"], KIND_SINGLE, ["x", "y"])
    with pytest.raises(ValueError):
        train(["a", "b", "c", "d"], ["x", "y", "z", "x"], KIND_SINGLE, ["x", "y"])
    with pytest.raises(ValueError):
        train(["a"] * 4, ["x", "y", "x", "y"], "nonsense", ["x", "y"])
    with pytest.raises(ValueError):
        train(["a"] * 4, ["match"] * 4, KIND_BINARY, [])


def test_save_load_roundtrip_and_tamper(tmp_path, single):
    texts, _labels, _classes, model = single
    path = tmp_path / "models" / "m.pkl"
    digest = save_model(model, path)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert [p.name for p in path.parent.iterdir()] == ["m.pkl"]  # no temp file left behind
    loaded = load_model(path, digest)
    assert isinstance(loaded, TrainedModel)
    assert np.array_equal(loaded.predict_scores(texts[:10]), model.predict_scores(texts[:10]))
    assert loaded.explain(texts[0]) == model.explain(texts[0])
    assert loaded.top_terms(5) == model.top_terms(5)

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError):
        load_model(path, digest)
    with pytest.raises(ArtifactError):
        load_model(tmp_path / "missing.pkl", digest)


def test_load_refuses_before_unpickling(tmp_path):
    """A file whose digest matches nothing on record is never unpickled."""
    import hashlib
    import pickle

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ArtifactError):
        load_model(path, "0" * 64)
    # Even with the right digest, a file without our header is refused before pickle.loads.
    with pytest.raises(ArtifactError):
        load_model(path, hashlib.sha256(path.read_bytes()).hexdigest())


def test_out_of_fold_scores_and_likely_mistakes():
    texts, labels, classes = single_label(n_per_class=40)
    flipped = {5: "money", 17: "sport", 40: "music"}
    noisy = list(labels)
    for i, wrong in flipped.items():
        assert noisy[i] != wrong
        noisy[i] = wrong
    oof = out_of_fold_scores(texts, noisy, KIND_SINGLE, classes, FAST, folds=4)
    assert oof.shape == (len(texts), 3)
    assert np.allclose(oof.sum(axis=1), 1.0)
    found = likely_mistakes(noisy, oof, KIND_SINGLE, classes, max_items=10)
    assert {m["index"] for m in found[:5]} >= set(flipped)
    for m in found:
        if m["index"] in flipped:
            assert m["suggested"] == labels[m["index"]] and m["given"] == flipped[m["index"]]
    json.dumps(found)


def test_likely_mistakes_multi_label():
    texts, labels, classes = multi_label(n=240)
    noisy = [list(x) for x in labels]
    victims = [i for i, x in enumerate(labels) if "red" in x][:3]
    for i in victims:
        noisy[i].remove("red")
    oof = out_of_fold_scores(texts, noisy, KIND_MULTI, classes, FAST, folds=4)
    found = likely_mistakes(noisy, oof, KIND_MULTI, classes, max_items=None)
    by_index = {m["index"]: m for m in found}
    assert sum(1 for i in victims if i in by_index and "red" in by_index[i]["add"]) >= 2
    json.dumps(found)


def test_learning_curve():
    texts, labels, classes = single_label(n_per_class=40)
    tr, te = stratified_split(labels, KIND_SINGLE, 0.25, seed=0)
    curve = learning_curve(
        [texts[i] for i in tr],
        [labels[i] for i in tr],
        [texts[i] for i in te],
        [labels[i] for i in te],
        KIND_SINGLE,
        classes,
        fractions=(0.5, 1.0),
        config=TrainingConfig(select_candidates=False),
    )
    assert [c["fraction"] for c in curve] == [0.5, 1.0]
    assert curve[0]["n_train"] < curve[1]["n_train"] == len(tr)
    assert all(0 <= c["macro_f1"] <= 1 for c in curve)
    json.dumps(curve)


def test_time_budget_skips_optional_candidates():
    texts, labels, classes = single_label(n_per_class=20)
    model = train(texts, labels, KIND_SINGLE, classes, TrainingConfig(time_budget_s=0.0))
    statuses = [c["status"] for c in model.params["candidates"]]
    assert statuses[0] == "evaluated"
    assert all(s.startswith("skipped") for s in statuses[1:])
    off = train(texts, labels, KIND_SINGLE, classes, TrainingConfig(select_candidates=False))
    assert [c["status"] for c in off.params["candidates"]][1:] == ["skipped: candidate selection off"] * 2
