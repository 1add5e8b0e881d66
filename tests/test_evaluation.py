"""The evaluation page's data (classifiers.evaluation) on hand-made metrics, and the likely
mistakes actions (classifiers.actions.mistakes) on real versions."""

from __future__ import annotations

import random

import pytest

from classifiers import evaluation as ev
from classifiers import ml
from classifiers.actions.base import ActionError
from classifiers.actions.mistakes import do_confirm_tags, do_retag_mistake
from classifiers.actions.training import do_request_training
from classifiers.models import Document, ModelVersion, Tag, TagConfirmation, VersionAnalysis
from studio.models import AuditEntry
from tests.training_data import WORDS, tagged_project

# --- Helpers shared with the view tests -------------------------------------------------------


def train_version(project, user, capture) -> ModelVersion:
    """A real version, trained through the django-q2 task (sync in tests) with its analysis."""
    with capture(execute=True):
        run, _created = do_request_training(user, project)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    return ModelVersion.objects.get(training_run=run)


def mistagged_project(project, tagger, wrong: int = 3):
    """The 3-class project with a fixed test set (the last 4 documents of each class) and
    ``wrong`` extra training documents of pure finance words tagged sport: likely mistakes.
    (Checked over 40 seeds: the analysis always flags at least one of them.)"""
    objs, docs = tagged_project(project, tagger)
    by_class = {name: [d for d in docs if f"#{name}" in d.text] for name in objs}
    Document.objects.filter(pk__in=[d.pk for name in objs for d in by_class[name][-4:]]).update(set="test")
    rng = random.Random(7)
    for i in range(wrong):
        words = WORDS["finance"].split()
        rng.shuffle(words)
        text = f"{' '.join(words)} mistagged{i}"
        doc = Document.objects.create(project=project, text=text, text_chars=len(text), text_hash=f"wrong{i}")
        Tag.objects.create(project=project, document=doc, tag_class=objs["sport"], tagger=tagger)
    return objs, docs


def flagged_training_document(version) -> tuple[Document, dict]:
    analysis = VersionAnalysis.objects.get(model_version=version)
    assert analysis.state == "done" and analysis.mistakes, analysis.error
    item = analysis.mistakes[0]
    return Document.objects.get(pk=item["document_id"]), item


# --- Hand-made metrics ----------------------------------------------------------------------
SINGLE = ml.evaluate(
    ["a", "a", "a", "a", "b", "b", "b", "c", "c", "c"],
    ["a", "a", "a", "b", "b", "b", "a", "c", "c", "a"],
    ml.KIND_SINGLE,
    ["a", "b", "c", "d"],
)
MULTI = ml.evaluate(
    [["a"], ["a", "b"], ["b"], ["c"], ["a", "c"], []],
    [["a"], ["a"], ["b", "c"], ["a"], ["a", "c"], ["b"]],
    ml.KIND_MULTI,
    ["a", "b", "c"],
)


def links() -> ev.Links:
    return ev.Links(
        documents_url="/docs/",
        tests_url="/v/?tab=tests",
        class_ids={"a": 1, "b": 2, "c": 3, "d": 4},
        training_set="training",
    )


def test_overview_single_label():
    o = ev.overview(SINGLE, ml.KIND_SINGLE)
    assert o.measured and o.n_test == 10
    assert [f.label for f in o.headline] == ["Accuracy"]
    assert o.headline[0].value == pytest.approx(0.7)
    assert "7 of 10 correct; 95% interval" in o.headline[0].note
    # Micro figures come from the summed per-class counts (single-label: equals accuracy).
    micro = dict((f.label, f.value) for f in o.micro)
    assert micro["Micro precision"] == pytest.approx(0.7) and micro["Micro F1"] == pytest.approx(0.7)
    assert o.counts == "TP 7, FP 3, FN 3"
    assert [row[0] for row in o.table] == ["Precision", "Recall", "F1"]


def test_overview_multi_label_and_unmeasured():
    o = ev.overview(MULTI, ml.KIND_MULTI)
    labels = [f.label for f in o.headline]
    assert labels == ["Exact match", "Without any class"][: len(labels)] and labels[0] == "Exact match"
    tp, fp, fn = MULTI["micro"]["tp"], MULTI["micro"]["fp"], MULTI["micro"]["fn"]
    assert dict((f.label, f.value) for f in o.micro)["Micro precision"] == pytest.approx(tp / (tp + fp))
    assert dict((f.label, f.value) for f in o.micro)["Micro recall"] == pytest.approx(tp / (tp + fn))
    assert not ev.overview({}, ml.KIND_SINGLE).measured


def test_class_rows_carry_counts_and_training_support():
    rows = {r.name: r for r in ev.class_rows(SINGLE, ml.KIND_SINGLE, {"a": 30, "b": 4})}
    assert (rows["a"].tp, rows["a"].fp, rows["a"].fn, rows["a"].tn) == (3, 2, 1, 4)
    assert rows["a"].test_support == 4 and rows["a"].train_support == 30
    assert rows["c"].train_support == 0 and rows["d"].test_support == 0
    assert all(r.train_support is None for r in ev.class_rows(SINGLE, ml.KIND_SINGLE))


def test_confusion_table_raw_normalised_errors():
    raw = ev.confusion_table(SINGLE, ml.KIND_SINGLE, "raw")
    assert [n for n, _ in raw.labels] == ["a", "b", "c", "d"] and raw.total == 10
    a = raw.rows[0]
    assert [c.count for c in a.cells] == [3, 1, 0, 0] and a.total == 4
    assert a.cells[0].diagonal and not a.cells[1].diagonal
    assert a.cells[0].shade == ev.SHADES  # the largest count
    assert a.cells[2].shade == 0 and a.cells[2].text == "0"
    assert raw.column_totals == [5, 3, 2, 0]
    assert "Actual a, predicted b: 1 of 4" in a.cells[1].title

    norm = ev.confusion_table(SINGLE, ml.KIND_SINGLE, "normalised")
    assert [c.text for c in norm.rows[0].cells] == ["75%", "25%", "0%", "0%"]
    assert norm.rows[3].cells[0].text == "-"  # no test document of d: no share

    errors = ev.confusion_table(SINGLE, ml.KIND_SINGLE, "errors")
    assert all(c.text == "" and c.shade == 0 for r in errors.rows for c in r.cells if c.diagonal)
    b_to_a = errors.rows[1].cells[0]
    assert b_to_a.text == "1" and b_to_a.shade == ev.SHADES  # mistakes are shaded against each other

    assert ev.confusion_table(SINGLE, ml.KIND_SINGLE, "bogus").mode == "raw"
    assert ev.confusion_table(MULTI, ml.KIND_MULTI) is None


def test_trainable_names_are_words():
    metrics = ml.evaluate(["match", "not_match", "match"], ["match", "match", "no_match"], ml.KIND_BINARY, [])
    table = ev.confusion_table(metrics, "trainable")
    assert [label for _n, label in table.labels] == ["Match", "Not a match"]
    assert ev.as_measured(["close_match"], "trainable") == {"not_match"}


def test_guidance_cards():
    cards = ev.guidance_cards(SINGLE, ml.KIND_SINGLE, links(), {"a": 300, "b": 20, "c": 16, "d": 3})
    titles = [c.title for c in cards]
    assert "Few training tags: d" in titles
    assert "Missing from the test set: d" in titles
    assert "Strong imbalance" in titles  # 300 against 3
    assert "Small test set" in titles
    few = next(c for c in cards if c.title == "Few training tags: d")
    assert ("d training documents", "/docs/?class=4&set=training") in few.links
    # b -> a once and c -> a once: below CONFUSION_MIN_COUNT, not a card.
    assert not any(t.startswith("Often confused") for t in titles)
    metrics = ml.evaluate(
        ["a"] * 10 + ["b"] * 10, ["a"] * 10 + ["a"] * 3 + ["b"] * 7, ml.KIND_SINGLE, ["a", "b"]
    )
    confused = [c for c in ev.guidance_cards(metrics, ml.KIND_SINGLE, links()) if c.title.startswith("Often")]
    assert confused[0].title == "Often confused: b → a"
    assert ("These test documents", "/v/?tab=tests&actual=b&predicted=a") in confused[0].links
    assert ev.guidance_cards({}, ml.KIND_SINGLE, links())[0].title == "Not measured"


def test_curve_helpers():
    curve = ml.threshold_curve([True, False, True, False], [0.9, 0.8, 0.4, 0.1])
    at = ev.curve_at(curve, 0.5)
    assert (at.precision, at.recall, at.positives) == (0.5, 0.5, 2)  # scores 0.9 and 0.8 pass
    assert ev.curve_at(curve, 0.95) is None
    assert [p.threshold for p in ev.curve_table(curve, (0.3, 0.5))] == [0.3, 0.5]
    assert "Still rising" in ev.learning_verdict(
        [{"n_train": 10, "macro_f1": 0.5}, {"n_train": 20, "macro_f1": 0.6}]
    )
    assert "Flat" in ev.learning_verdict([{"n_train": 10, "macro_f1": 0.8}, {"n_train": 20, "macro_f1": 0.8}])
    noisy = [
        {"n_train": 10, "macro_f1": 0.76},
        {"n_train": 20, "macro_f1": 0.64},
        {"n_train": 30, "macro_f1": 0.7},
    ]
    assert ev.learning_verdict(noisy, n_test=12).startswith("Not rising")
    assert ev.learning_verdict(noisy, n_test=12).endswith(
        "With only 12 test documents, treat this as a hint."
    )
    assert ev.learning_verdict([]) == ""


def test_test_filters():
    f, errors = ev.parse_test_filter({"outcome": "mismatches", "class": "a"}, ["a", "b"])
    assert f == ev.TestFilter(outcome="mismatches", cls="a") and not errors
    assert ev.test_matches(f, {"a"}, {"b"}, "wrong") and not ev.test_matches(f, {"a"}, {"a"}, "correct")
    assert not ev.test_matches(f, {"c"}, {"b"}, "wrong")
    f, errors = ev.parse_test_filter({"outcome": "nope", "class": "<script>", "actual": "a"}, ["a"])
    assert f == ev.TestFilter() and len(errors) == 2  # an actual without predicted is dropped silently
    pair = ev.TestFilter(actual="a", predicted="b")
    assert ev.test_matches(pair, {"a"}, {"b"}, "wrong")
    assert not ev.test_matches(pair, {"a", "b"}, {"b"}, "partial")  # multi-label: b is not a confusion
    assert ev.test_matches(ev.TestFilter(actual="a", predicted="a"), {"a"}, {"a"}, "correct")
    assert ev.test_matches(ev.TestFilter(cls="a", cell="fn"), {"a"}, set(), "wrong")
    assert not ev.test_matches(ev.TestFilter(cls="a", cell="fp"), {"a"}, {"a"}, "correct")
    assert not ev.test_matches(ev.TestFilter(cls="a"), None, {"b"}, "wrong")  # conflict now: no actual


def test_open_mistakes_hides_confirmed_and_changed():
    found = [
        {"document_id": 1, "given": "a", "suggested": "b", "confidence": 0.9, "given_score": 0.05},
        {"document_id": 2, "given": "a", "suggested": "c", "confidence": 0.8},
        {"document_id": 3, "given": "b", "suggested": "a", "confidence": 0.7},
        {"document_id": 4, "given": ["a", "b"], "suggested": ["a"], "confidence": 0.6, "remove": ["b"]},
        {"document_id": 5, "given": "a", "suggested": "b", "confidence": 0.5},
    ]
    current = {1: ["a"], 2: ["a"], 3: ["a"], 4: ["b", "a"]}  # 3 re-tagged, 5 in conflict now
    confirmed = {2: ev.labels_key(["a"]), 1: ev.labels_key(["b"])}  # 1 confirmed as other labels
    result = ev.open_mistakes(found, current, confirmed)
    assert [i.document_id for i in result.items] == [1, 4]
    assert result.confirmed == 1 and result.changed == 2
    assert result.items[1].remove == ["b"] and result.items[1].rank == 4
    assert ev.labels_key(["b", "a", "a"]) == '["a","b"]'
    assert len(ev.labels_key([f"class {i:03d} with a long name" for i in range(40)])) <= 500


def test_highlight_escapes_and_marks_by_weight():
    text = "<script>alert(1)</script> loan & bank"
    start = text.index("loan")
    html = ev.highlight_html(
        text, [(start, start + 4, 2.0), (text.index("bank"), len(text), -0.7), (0, 1, 0.01)]
    )
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<mark class="pos-3" title="loan: +2.000">loan</mark>' in html
    assert '<mark class="neg-2" title="bank: -0.700">bank</mark>' in html
    assert "&amp;" in html and "style=" not in html
    assert ev.highlight_html("a<b", [(0, 5, 1.0)]) == "a&lt;b"  # out-of-range span ignored
    assert ev.weight_class(0.05, 1.0) == ""  # under a tenth of the peak: not marked


def test_line_chart_escapes_names():
    from classifiers.charts import Line, Marker, line_chart

    svg = line_chart(
        [Line("<b>x</b>", [(0.1, 0.5), (0.9, 0.7)], markers=True)],
        title="T <i>", desc="D & d", x_label="x", y_label="y", markers=[Marker(0.5, "<m>")],
    )  # fmt: skip
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg and "<i>" not in svg and "<m>" not in svg
    assert "<title" in svg and "<desc" in svg and "style=" not in svg


# --- Real versions ----------------------------------------------------------------------------
@pytest.fixture
def version(project, admin_user, tagger_user, django_capture_on_commit_callbacks):
    mistagged_project(project, tagger_user)
    return train_version(project, admin_user, django_capture_on_commit_callbacks)


def test_training_support_is_stored_with_the_version(version):
    support = ev.training_support(version)
    assert support.exact and support.counts == version.metrics["train_support"]
    assert sum(support.counts.values()) == version.train_size


def test_training_support_is_exact_until_tags_change(version, project, tagger_user):
    # Versions stored before train_support existed: counted from the snapshot and current tags.
    version.metrics = {k: v for k, v in version.metrics.items() if k != "train_support"}
    ev.clear_caches()
    support = ev.training_support(version)
    assert support.exact and sum(support.counts.values()) == version.train_size
    doc = Document.objects.filter(project=project, set="training").first()
    Tag.objects.filter(document=doc).delete()
    ev.clear_caches()
    changed = ev.training_support(version)
    assert not changed.exact and sum(changed.counts.values()) == version.train_size - 1


def test_test_rows_follow_filters(version):
    rows = ev.test_rows(version, ev.TestFilter())
    assert len(rows) == version.test_size
    wrong = ev.test_rows(version, ev.TestFilter(outcome="mismatches"))
    assert all(r.outcome != "correct" for r in wrong)
    assert not any(r.changed for r in rows)


def test_confirm_hides_the_document_until_its_tags_change(version, tagger_user, viewer_user):
    document, item = flagged_training_document(version)
    with pytest.raises(ActionError, match="Tagger or Admin"):
        do_confirm_tags(viewer_user, version, document)
    do_confirm_tags(tagger_user, version, document)
    confirmation = TagConfirmation.objects.get(document=document)
    assert confirmation.labels_key == ev.labels_key([item["given"]])
    entry = AuditEntry.objects.get(action="mistake.confirm")
    assert entry.payload == {"labels": [item["given"]], "version": version.number}
    do_confirm_tags(tagger_user, version, document)  # again: still one confirmation
    assert TagConfirmation.objects.filter(document=document).count() == 1


def test_retag_takes_the_suggestion(version, tagger_user):
    document, item = flagged_training_document(version)
    result = do_retag_mistake(tagger_user, version, document, [item["suggested"]])
    assert result.changed and result.labels == [item["suggested"]]
    entry = AuditEntry.objects.filter(action="tag.set").latest("id")
    assert entry.payload["source"] == "review" and entry.payload["classes"] == [item["suggested"]]


def test_retag_by_another_tagger_makes_a_conflict(version, admin_user):
    document, item = flagged_training_document(version)
    result = do_retag_mistake(admin_user, version, document, [item["suggested"]])
    assert result.labels is None  # tom's tag and alice's now disagree
    with pytest.raises(ActionError, match="no agreed tags"):
        do_confirm_tags(admin_user, version, document)


def test_retag_refuses_unknown_class(version, tagger_user):
    document, _item = flagged_training_document(version)
    with pytest.raises(ActionError, match="no longer a class"):
        do_retag_mistake(tagger_user, version, document, ["gone"])
    with pytest.raises(ActionError, match="suggests no class"):
        do_retag_mistake(tagger_user, version, document, [])


def test_model_cache_loads_once(version, monkeypatch):
    import classifiers.serving as serving

    ev.clear_caches()
    calls = []
    real = serving.load_version_model
    monkeypatch.setattr(serving, "load_version_model", lambda v: calls.append(v.pk) or real(v))
    first = ev.cached_model(version)
    assert ev.cached_model(version) is first and calls == [version.pk]
