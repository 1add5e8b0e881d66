"""What a model version's evaluation page shows, worked out from what training stored.

Most functions here are pure: they take ``ModelVersion.metrics`` (the output of
``classifiers.ml.evaluate`` plus ``top_terms`` and ``threshold_curves``), prediction rows,
the analysis's lists and plain dicts, and return small dataclasses for the templates. They
never recompute a figure the engine stored: the page shows what the version was measured at.
The last section holds the few queries that feed them (test-set rows, current labels, the
training-set counts behind "support in train", and an in-process cache of loaded models).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

# The same thresholds as the dataset dashboard's warnings, so both pages agree.
MIN_TRAINING_TAGS = 15
IMBALANCE_RATIO = 10
# A pair of classes is "often confused" when at least this many test documents, and at
# least this share of the actual class's test documents, went to the other class.
CONFUSION_MIN_COUNT = 2
CONFUSION_MIN_SHARE = 0.1
MAX_CONFUSION_CARDS = 5
SMALL_TEST_SET = 30
SHADES = 5  # confusion cells: shade-0 (empty) .. shade-5 (largest)
MARK_LEVELS = 3  # highlighted words: pos-1..pos-3 and neg-1..neg-3
MARK_MIN_SHARE = 0.1  # words under a tenth of the strongest weight are not marked
LABELS_KEY_MAX = 500  # TagConfirmation.labels_key's length

MATCH, NOT_MATCH = "match", "not_match"
TRAINABLE = "trainable"
MULTI_LABEL = "multi_label"
SINGLE_LABEL = "single_label"
DISPLAY = {MATCH: "Match", NOT_MATCH: "Not a match", "close_match": "Close match", "no_match": "No match"}
OUTCOMES = ("correct", "wrong", "partial")


def display_name(name: str, kind: str) -> str:
    """A class as people read it: trainable classifiers' internal names become words."""
    return DISPLAY.get(name, name) if kind == TRAINABLE else name


def as_measured(labels: Iterable[str], kind: str) -> set[str]:
    """Predicted or given labels as the evaluation counted them: for trainable classifiers
    a close match and no match are both "not a match"."""
    labels = list(labels)
    if kind == TRAINABLE:
        return {MATCH} if MATCH in labels else {NOT_MATCH}
    return set(labels)


# --- Overview -------------------------------------------------------------------------------
@dataclass
class Figure:
    label: str
    value: float | None
    note: str = ""


@dataclass
class Overview:
    measured: bool  # False: no test set, nothing to show
    n_test: int
    micro: list[Figure]
    macro: list[Figure]
    headline: list[Figure]  # accuracy (single-label, trainable) or exact-match ratio (multi-label)
    macro_classes: int = 0
    counts: str = ""  # the summed counts behind the micro figures

    @property
    def table(self) -> list[tuple[str, float | None, float | None]]:
        """(measure, micro, macro) rows: precision, recall, F1."""
        return [
            (mi.label.split()[-1].capitalize(), mi.value, ma.value)
            for mi, ma in zip(self.micro, self.macro, strict=True)
        ]


def overview(metrics: Mapping[str, Any], kind: str) -> Overview:
    n = int(metrics.get("n_documents") or 0)
    if not n or "micro" not in metrics:
        return Overview(False, 0, [], [], [])
    micro, macro = metrics["micro"], metrics.get("macro", {})
    counts = f"TP {micro.get('tp', 0):,}, FP {micro.get('fp', 0):,}, FN {micro.get('fn', 0):,}"
    summed = f"from summed counts: {counts}"
    headline: list[Figure] = []
    if "accuracy" in metrics:
        from classifiers.ml import binomial_ci

        correct = int(metrics.get("n_correct", round(metrics["accuracy"] * n)))
        low, high = binomial_ci(correct, n)
        headline.append(
            Figure(
                "Accuracy",
                metrics["accuracy"],
                f"{correct:,} of {n:,} correct; 95% interval {low:.2f} to {high:.2f}",
            )
        )
    if "exact_match_ratio" in metrics:
        exact = int(metrics.get("n_exact_match", 0))
        headline.append(
            Figure(
                "Exact match",
                metrics["exact_match_ratio"],
                f"{exact:,} of {n:,} with exactly the right classes",
            )
        )
        missing = int(metrics.get("n_without_prediction", 0))
        if missing:
            headline.append(
                Figure("Without any class", missing / n, f"{missing:,} of {n:,} got no class at all")
            )
    return Overview(
        measured=True,
        n_test=n,
        micro=[
            Figure("Micro precision", micro.get("precision"), summed),
            Figure("Micro recall", micro.get("recall"), summed),
            Figure("Micro F1", micro.get("f1"), summed),
        ],
        macro=[
            Figure("Macro precision", macro.get("precision"), "unweighted mean over the classes"),
            Figure("Macro recall", macro.get("recall"), "unweighted mean over the classes"),
            Figure("Macro F1", macro.get("f1"), "unweighted mean over the classes"),
        ],
        headline=headline,
        macro_classes=int(macro.get("n_classes", 0)),
        counts=counts,
    )


# --- Per class ------------------------------------------------------------------------------
@dataclass
class ClassRow:
    name: str
    label: str
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int
    test_support: int
    train_support: int | None

    @property
    def predicted(self) -> int:
        return self.tp + self.fp


def class_rows(
    metrics: Mapping[str, Any], kind: str, train_support: Mapping[str, int] | None = None
) -> list[ClassRow]:
    rows = []
    for name in metrics.get("classes", []):
        c = metrics.get("per_class", {}).get(name)
        if c is None:
            continue
        rows.append(
            ClassRow(
                name=name,
                label=display_name(name, kind),
                precision=c["precision"],
                recall=c["recall"],
                f1=c["f1"],
                tp=c["tp"],
                fp=c["fp"],
                fn=c["fn"],
                tn=c["tn"],
                test_support=c["support"],
                train_support=None if train_support is None else int(train_support.get(name, 0)),
            )
        )
    return rows


# --- Confusion matrix -----------------------------------------------------------------------
CONFUSION_MODES = {"raw": "Counts", "normalised": "Share of the actual class", "errors": "Errors only"}


@dataclass
class Cell:
    actual: str
    predicted: str
    count: int
    text: str
    shade: int  # 0..SHADES
    diagonal: bool
    title: str


@dataclass
class ConfusionRow:
    actual: str
    label: str
    total: int
    cells: list[Cell]


@dataclass
class ConfusionTable:
    mode: str
    labels: list[tuple[str, str]]  # (name, display)
    rows: list[ConfusionRow]
    column_totals: list[int]
    total: int


def _shade(value: float, peak: float) -> int:
    if value <= 0 or peak <= 0:
        return 0
    return max(1, min(SHADES, math.ceil(SHADES * value / peak)))


def confusion_table(metrics: Mapping[str, Any], kind: str, mode: str = "raw") -> ConfusionTable | None:
    """The single-label (and trainable) matrix: rows are the actual classes, columns the
    predicted ones. ``normalised`` divides each row by its total (the diagonal is then the
    recall); ``errors`` blanks the diagonal and shades the mistakes against each other."""
    cm = metrics.get("confusion_matrix")
    if not cm:
        return None
    mode = mode if mode in CONFUSION_MODES else "raw"
    names: list[str] = list(cm["labels"])
    matrix: list[list[int]] = [list(map(int, r)) for r in cm["matrix"]]
    totals = [sum(r) for r in matrix]
    off = [matrix[i][j] for i in range(len(names)) for j in range(len(names)) if i != j]
    peak_raw = max((v for r in matrix for v in r), default=0)
    rows = []
    for i, actual in enumerate(names):
        cells = []
        for j, predicted in enumerate(names):
            count = matrix[i][j]
            share = count / totals[i] if totals[i] else 0.0
            diagonal = i == j
            a, p = display_name(actual, kind), display_name(predicted, kind)
            title = f"Actual {a}, predicted {p}: {count:,} of {totals[i]:,} test documents ({share:.0%})"
            if mode == "normalised":
                text, shade = (f"{share:.0%}" if totals[i] else "-"), _shade(share, 1.0)
            elif mode == "errors":
                if diagonal:
                    text, shade = "", 0
                else:
                    text, shade = (f"{count:,}" if count else ""), _shade(count, max(off, default=0))
            else:
                text, shade = f"{count:,}", _shade(count, peak_raw)
            cells.append(Cell(actual, predicted, count, text, shade, diagonal, title))
        rows.append(ConfusionRow(actual, display_name(actual, kind), totals[i], cells))
    column_totals = [sum(matrix[i][j] for i in range(len(names))) for j in range(len(names))]
    return ConfusionTable(
        mode=mode,
        labels=[(n, display_name(n, kind)) for n in names],
        rows=rows,
        column_totals=column_totals,
        total=sum(totals),
    )


@dataclass
class Confusion:
    actual: str
    predicted: str
    count: int
    support: int  # test documents of the actual class

    @property
    def share(self) -> float:
        return self.count / self.support if self.support else 0.0


def top_confusions(metrics: Mapping[str, Any]) -> list[Confusion]:
    """The engine's most frequent (actual, predicted) pairs. Multi-label: a class the
    document has but did not get, with a class it got but does not have."""
    per_class = metrics.get("per_class", {})
    return [
        Confusion(
            c["actual"],
            c["predicted"],
            int(c["count"]),
            int(per_class.get(c["actual"], {}).get("support", 0)),
        )
        for c in metrics.get("top_confusions", [])
    ]


# --- Guidance -------------------------------------------------------------------------------
@dataclass
class Links:
    """How guidance links are made (the view knows the URLs; these functions stay pure)."""

    documents_url: str  # the document browser
    tests_url: str  # this version's test-set tab
    class_ids: Mapping[str, int]
    training_set: str = "training"
    trainable_category: int | None = None

    def documents(self, name: str, set_name: str = "") -> str:
        params: dict[str, str] = {}
        if name == MATCH and self.trainable_category:
            params["class"] = str(self.trainable_category)
        elif name == NOT_MATCH:
            params["not_match"] = "1"
        elif name in self.class_ids:
            params["class"] = str(self.class_ids[name])
        if set_name:
            params["set"] = set_name
        return f"{self.documents_url}?{urlencode(params)}"

    def tests(self, filters: Mapping[str, str] | None = None) -> str:
        """The test-set tab (``tests_url`` already has ``?tab=tests``) with filters."""
        return f"{self.tests_url}&{urlencode(dict(filters))}" if filters else self.tests_url


@dataclass
class Card:
    level: str  # "warn" or "info"
    title: str
    text: str
    links: list[tuple[str, str]] = field(default_factory=list)


def guidance_cards(
    metrics: Mapping[str, Any],
    kind: str,
    links: Links,
    train_support: Mapping[str, int] | None = None,
    *,
    mistakes: int | None = None,
    mistakes_url: str = "",
) -> list[Card]:
    """What to do next, with links to the documents concerned."""
    cards: list[Card] = []
    classes: list[str] = list(metrics.get("classes", []))
    per_class = metrics.get("per_class", {})
    n_test = int(metrics.get("n_documents") or 0)
    if not n_test:
        cards.append(Card("warn", "Not measured", "This version has no test documents, so none of its figures can be trusted. "
                          "Put tagged documents in the test set and train again."))  # fmt: skip
    if train_support is not None:
        for name in classes:
            n = int(train_support.get(name, 0))
            if n < MIN_TRAINING_TAGS:
                label = display_name(name, kind)
                cards.append(Card(
                    "warn", f"Few training tags: {label}",
                    f"{label} has {n:,} tagged training document{'' if n == 1 else 's'}; tag at least {MIN_TRAINING_TAGS}.",
                    [(f"{label} training documents", links.documents(name, links.training_set)),
                     ("Untagged documents", f"{links.documents_url}?untagged=1")],
                ))  # fmt: skip
        present = {n: int(train_support.get(n, 0)) for n in classes if train_support.get(n, 0)}
        if len(present) >= 2:
            big = max(present, key=lambda n: (present[n], n))
            small = min(present, key=lambda n: (present[n], n))
            ratio = present[big] / present[small]
            if ratio > IMBALANCE_RATIO:
                b, s = display_name(big, kind), display_name(small, kind)
                cards.append(Card(
                    "warn", "Strong imbalance",
                    f"{b} has {present[big]:,} training tags, {s} only {present[small]:,} ({ratio:.0f} times fewer): "
                    f"the model will lean towards {b}. Tag more {s} documents.",
                    [(f"{s} training documents", links.documents(small, links.training_set))],
                ))  # fmt: skip
    if n_test:
        for name in classes:
            if per_class.get(name, {}).get("support", 0) == 0:
                label = display_name(name, kind)
                cards.append(Card(
                    "warn", f"Missing from the test set: {label}",
                    f"No test document is tagged {label}, so its recall cannot be measured and its precision rests "
                    f"on other classes' documents. Move some tagged {label} documents to the test set.",
                    [(f"{label} documents", links.documents(name)),
                     (f"Predicted {label} in the test set", links.tests({"class": name}))],
                ))  # fmt: skip
    confused = [
        c
        for c in top_confusions(metrics)
        if c.count >= CONFUSION_MIN_COUNT and c.share >= CONFUSION_MIN_SHARE
    ]
    for c in confused[:MAX_CONFUSION_CARDS]:
        a, p = display_name(c.actual, kind), display_name(c.predicted, kind)
        cards.append(Card(
            "warn", f"Often confused: {a} → {p}",
            f"{c.count:,} of {c.support:,} {a} test documents ({c.share:.0%}) were predicted {p}. Read them: are the "
            f"tags right, and do the guidelines tell the two classes apart?",
            [("These test documents", links.tests({"actual": c.actual, "predicted": c.predicted})),
             (f"{a} documents", links.documents(c.actual)), (f"{p} documents", links.documents(c.predicted))],
        ))  # fmt: skip
    if 0 < n_test < SMALL_TEST_SET:
        cards.append(Card(
            "info", "Small test set",
            f"The test set has {n_test:,} documents: one document more or less right moves the figures by "
            f"{1 / n_test:.0%}. Treat differences between versions with care.",
        ))  # fmt: skip
    if mistakes:
        cards.append(Card(
            "info", "Possible tagging mistakes",
            f"The model strongly disagrees with the tags of {mistakes:,} training document{'' if mistakes == 1 else 's'}.",
            [("Review them", mistakes_url)] if mistakes_url else [],
        ))  # fmt: skip
    return cards


# --- Curves ---------------------------------------------------------------------------------
@dataclass
class CurvePoint:
    threshold: float
    precision: float
    recall: float
    f1: float
    positives: int


def curve_at(curve: Sequence[Mapping[str, Any]], threshold: float) -> CurvePoint | None:
    """Precision/recall when predicting the class for scores >= ``threshold``: the stored
    point of the smallest distinct score at or above it (the same documents pass both)."""
    above = [p for p in curve if p["threshold"] >= threshold - 1e-12]
    if not above:
        return None
    p = min(above, key=lambda q: q["threshold"])
    return CurvePoint(threshold, p["precision"], p["recall"], p["f1"], int(p.get("n_positive_predicted", 0)))


def curve_table(
    curve: Sequence[Mapping[str, Any]], steps: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
) -> list[CurvePoint]:
    return [p for p in (curve_at(curve, t) for t in steps) if p is not None]


def learning_verdict(curve: Sequence[Mapping[str, Any]], n_test: int = 0) -> str:
    """'Will more tags help?' from the shape of the learning curve (macro F1)."""
    if len(curve) < 2:
        return ""
    last, before = curve[-1], curve[-2]
    gain = last["macro_f1"] - before["macro_f1"]
    best_earlier = max(p["macro_f1"] for p in curve[:-1])
    step = f"from {before['n_train']:,} to {last['n_train']:,} training documents"
    if last["macro_f1"] + 0.005 < best_earlier:
        verdict = (
            f"Not rising: a smaller share of the training documents scored as well or better (macro F1 "
            f"{best_earlier:.3f} against {last['macro_f1']:.3f}). More tags of the same kind will help little; "
            "fix tagging mistakes and clarify confused classes first."
        )
    elif gain >= 0.02:
        verdict = f"Still rising: macro F1 gained {gain:.3f} {step}. More tags will very likely help."
    elif gain > 0.005:
        verdict = f"Rising slowly: macro F1 gained {gain:.3f} {step}. More tags may help a little."
    else:
        verdict = (
            f"Flat: macro F1 changed by {gain:+.3f} {step}. More tags of the same kind will help little; "
            "fix tagging mistakes, clarify confused classes, or tag the documents the model finds hard."
        )
    if 0 < n_test < SMALL_TEST_SET:
        verdict += f" With only {n_test} test documents, treat this as a hint."
    return verdict


# --- Test set details -----------------------------------------------------------------------
TEST_OUTCOME_FILTERS = {
    "": "All",
    "mismatches": "Mismatches only",
    "correct": "Correct",
    "wrong": "Wrong",
    "partial": "Partly right",
}
CELLS = {"tp": "true positives", "fp": "false positives", "fn": "false negatives"}


@dataclass(frozen=True)
class TestFilter:
    outcome: str = ""
    cls: str = ""  # the class is given or predicted
    cell: str = ""  # with cls: tp, fp or fn of that class
    actual: str = ""  # with predicted: one cell of the confusion matrix (or a multi-label confusion)
    predicted: str = ""

    def params(self) -> dict[str, str]:
        out = {
            "outcome": self.outcome,
            "class": self.cls,
            "cell": self.cell,
            "actual": self.actual,
            "predicted": self.predicted,
        }
        return {k: v for k, v in out.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.params())

    def describe(self, kind: str) -> str:
        parts = []
        if self.outcome:
            parts.append(TEST_OUTCOME_FILTERS[self.outcome].lower())
        if self.cls:
            name = display_name(self.cls, kind)
            parts.append(f"{CELLS[self.cell]} of {name}" if self.cell else f"given or predicted {name}")
        if self.actual and self.predicted:
            parts.append(
                f"actual {display_name(self.actual, kind)}, predicted {display_name(self.predicted, kind)}"
            )
        return "; ".join(parts)


def parse_test_filter(params: Mapping[str, Any], names: Sequence[str]) -> tuple[TestFilter, list[str]]:
    """GET parameters -> a filter; unknown values are dropped and explained, never a 500."""
    errors = []
    known = set(names)

    def pick(key: str, allowed: Iterable[str], what: str) -> str:
        value = str(params.get(key, "") or "")[:200]
        if value and value not in allowed:
            errors.append(f"Unknown {what}: “{value}”; ignored.")
            return ""
        return value

    outcome = pick("outcome", TEST_OUTCOME_FILTERS, "outcome filter")
    cls = pick("class", known, "class")
    cell = pick("cell", CELLS, "count") if cls else ""
    actual = pick("actual", known, "class")
    predicted = pick("predicted", known, "class")
    if bool(actual) != bool(predicted):
        actual = predicted = ""
    return TestFilter(outcome, cls, cell, actual, predicted), errors


def test_matches(f: TestFilter, actual: set[str] | None, predicted: set[str], outcome: str) -> bool:
    """Whether one test document passes the filter. ``actual`` is its labels as measured
    (None when its tags are now in conflict or gone), ``predicted`` likewise."""
    if f.outcome == "mismatches" and outcome == "correct":
        return False
    if f.outcome in OUTCOMES and outcome != f.outcome:
        return False
    given = actual or set()
    if f.cls:
        if f.cell == "tp" and not (f.cls in given and f.cls in predicted):
            return False
        if f.cell == "fp" and not (f.cls not in given and f.cls in predicted):
            return False
        if f.cell == "fn" and not (f.cls in given and f.cls not in predicted):
            return False
        if not f.cell and f.cls not in given and f.cls not in predicted:
            return False
    if f.actual and f.predicted:
        if f.actual == f.predicted:
            return f.actual in given and f.actual in predicted
        # An error cell: the document has ``actual`` and did not get it, got ``predicted``
        # and does not have it (for single-label data the second half always holds).
        return f.actual in given - predicted and f.predicted in predicted - given
    return True


def outcome_of(actual: set[str], predicted: set[str], kind: str) -> str:
    if actual == predicted:
        return "correct"
    if kind == MULTI_LABEL and actual & predicted:
        return "partial"
    return "wrong"


# --- Likely mistakes ------------------------------------------------------------------------
def labels_key(labels: Iterable[str]) -> str:
    """A document's final labels as one comparable string (TagConfirmation.labels_key)."""
    key = json.dumps(sorted(set(labels)), ensure_ascii=False, separators=(",", ":"))
    if len(key) > LABELS_KEY_MAX:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@dataclass
class MistakeItem:
    document_id: int
    given: list[str]
    suggested: list[str]
    confidence: float
    given_score: float | None = None  # single-label and trainable: the given class's probability
    add: list[str] = field(default_factory=list)  # multi-label: classes the model would add
    remove: list[str] = field(default_factory=list)  # ... and remove
    rank: int = 0


@dataclass
class MistakeList:
    items: list[MistakeItem]
    confirmed: int = 0  # hidden: a person kept these tags
    changed: int = 0  # hidden: the tags changed since the analysis (re-tagged, in conflict, deleted)


def open_mistakes(
    found: Sequence[Mapping[str, Any]], current: Mapping[int, Sequence[str]], confirmed: Mapping[int, str]
) -> MistakeList:
    """The analysis's flagged documents still worth a look, in its ranking.

    ``current`` is document id -> final labels now; ``confirmed`` is document id -> the
    labels_key a person confirmed. A confirmed document is hidden while its labels stay as
    confirmed; a document whose labels no longer equal what was flagged is hidden too (it
    was re-tagged, or is now in conflict): the flag no longer describes it.
    """
    out = MistakeList([])
    for rank, item in enumerate(found, start=1):
        doc_id = int(item["document_id"])
        given = _as_list(item.get("given"))
        now = current.get(doc_id)
        if now is None or set(now) != set(given):
            out.changed += 1
            continue
        if confirmed.get(doc_id) == labels_key(now):
            out.confirmed += 1
            continue
        out.items.append(
            MistakeItem(
                document_id=doc_id,
                given=sorted(given),
                suggested=sorted(_as_list(item.get("suggested"))),
                confidence=float(item.get("confidence", 0.0)),
                given_score=item.get("given_score"),
                add=list(item.get("add", [])),
                remove=list(item.get("remove", [])),
                rank=rank,
            )
        )
    return out


# --- Explanations ---------------------------------------------------------------------------
def weight_class(weight: float, peak: float) -> str:
    """The CSS class of a highlighted word: pos-1..3 pushes towards the class, neg-1..3 away."""
    if peak <= 0 or abs(weight) < MARK_MIN_SHARE * peak:
        return ""
    level = max(1, min(MARK_LEVELS, math.ceil(MARK_LEVELS * abs(weight) / peak)))
    return f"{'pos' if weight > 0 else 'neg'}-{level}"


def highlight_html(text: str, spans: Sequence[tuple[int, int, float]]) -> SafeString:
    """``text`` as HTML with its words marked by weight. Every text segment is escaped; the
    only markup is ``<mark class="pos-N|neg-N" title="...">``, so no style attributes."""
    peak = max((abs(w) for _s, _e, w in spans), default=0.0)
    parts: list[str] = []
    pos = 0
    for start, end, weight in sorted(spans):
        if start < pos or end <= start or end > len(text):
            continue  # overlapping or out-of-range spans never corrupt the output
        css = weight_class(weight, peak)
        if not css:
            continue
        parts.append(escape(text[pos:start]))
        word = text[start:end]
        parts.append(f'<mark class="{css}" title="{escape(word)}: {weight:+.3f}">{escape(word)}</mark>')
        pos = end
    parts.append(escape(text[pos:]))
    return mark_safe("".join(parts))  # every piece of text was escaped above


@dataclass
class Score:
    name: str
    label: str
    score: float
    chosen: bool
    threshold: float | None = None  # multi-label: the class's own cut


def score_rows(
    scores: Mapping[str, float],
    chosen: Iterable[str],
    kind: str,
    thresholds: Mapping[str, float] | None = None,
) -> list[Score]:
    picked = set(chosen)
    cuts = thresholds or {}
    rows = [
        Score(
            n, display_name(n, kind), float(s), n in picked, None if cuts.get(n) is None else float(cuts[n])
        )
        for n, s in scores.items()
    ]
    return sorted(rows, key=lambda r: (-r.score, r.name))


# --- Queries --------------------------------------------------------------------------------
# Below: the database and file reads that feed the functions above.
IN_CHUNK = 2000


def current_labels(project: Any, ids: Sequence[int]) -> dict[int, list[str]]:
    """Final labels now (classifiers.labels) of these documents; absent = untagged or in conflict."""
    from classifiers.labels import final_labels

    if len(ids) <= IN_CHUNK:
        return final_labels(project, ids)
    wanted = set(ids)
    return {k: v for k, v in final_labels(project).items() if k in wanted}


@dataclass
class TestRow:
    document_id: int
    title: str
    set: str
    predicted: list[str]
    scores: dict[str, float]
    top_score: float
    outcome: str
    current: list[str] | None  # final labels now (None: in conflict or untagged now)
    changed: bool  # the tags now would give another outcome than the one recorded


def test_rows(version: Any, f: TestFilter) -> list[TestRow]:
    """The version's test predictions passing ``f`` (documents still present), in id order.
    Each carries its current tags; ``changed`` marks a row whose tags changed since the
    version was measured (its recorded outcome then differs from what they would give)."""
    from classifiers.models import Prediction

    kind = version.kind
    # Scores are read for the shown page only (attach_documents): a big test set of a
    # many-class model would otherwise load every class's score of every document.
    rows = list(
        Prediction.objects.filter(model_version=version)
        .exclude(outcome="")
        .order_by("document_id")
        .values_list("document_id", "labels", "top_score", "outcome")
    )
    labels = current_labels(version.project, [r[0] for r in rows])
    out: list[TestRow] = []
    for doc_id, predicted, top, outcome in rows:
        now = labels.get(doc_id)
        actual = as_measured(now, kind) if now is not None else None
        measured_pred = as_measured(predicted, kind)
        if not test_matches(f, actual, measured_pred, outcome):
            continue
        changed = actual is None or outcome_of(actual, measured_pred, kind) != outcome
        out.append(TestRow(doc_id, "", "", list(predicted), {}, float(top), outcome, now, changed))
    return out


def attach_documents(rows: Sequence[Any], project: Any, version: Any = None) -> None:
    """Titles, sets (and with ``version``, scores) for one page of rows; rows of deleted
    documents get a plain title."""
    from classifiers.models import Document, Prediction

    if version is not None:
        scores = dict(
            Prediction.objects.filter(
                model_version=version, document_id__in=[r.document_id for r in rows]
            ).values_list("document_id", "scores")
        )
        for row in rows:
            row.scores = dict(scores.get(row.document_id) or {})
    docs = {
        d.pk: d
        for d in Document.objects.filter(project=project, id__in=[r.document_id for r in rows]).only(
            "id", "project_id", "filename", "external_id", "metadata", "set"
        )
    }
    for row in rows:
        doc = docs.get(row.document_id)
        row.title = doc.title if doc else f"Document {row.document_id} (deleted)"
        row.set = doc.set if doc else ""


@dataclass
class TrainSupport:
    counts: dict[str, int]
    exact: bool  # True: the training documents still carry the tags this version was trained on


_support_cache: OrderedDict[tuple[int, str], TrainSupport] = OrderedDict()
_support_lock = threading.Lock()


def training_support(version: Any) -> TrainSupport | None:
    """Tagged training documents per class for this version.

    The version stores the ids it was trained on (a hashed sidecar file) and a hash of their
    tags, not the counts, so they are counted from the documents' current tags, and the
    tags hash tells whether those are still the ones it was trained on (then the counts are
    exact and cached for good). None when the sidecar is missing or altered.
    """
    stored = version.metrics.get("train_support")
    if isinstance(stored, dict):
        return TrainSupport({k: int(v) for k, v in stored.items()}, True)
    key = (version.pk, version.snapshot.get("tags_sha256", ""))
    with _support_lock:
        if key in _support_cache:
            _support_cache.move_to_end(key)
            return _support_cache[key]
    from classifiers.analysis import ModelUnavailable, snapshot_ids

    if not version.snapshot.get("file"):
        return None
    try:
        ids = snapshot_ids(version)
        train_ids, test_ids = list(ids["train_ids"]), list(ids["test_ids"])
    except (ModelUnavailable, OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("training snapshot of version %s unreadable: %s", version.pk, exc)
        return None
    labels = current_labels(version.project, train_ids + test_ids)
    classes = set(version.classes) if version.kind != TRAINABLE else {MATCH, NOT_MATCH}
    digest = hashlib.sha256()
    counts: Counter[str] = Counter()
    for part, part_ids in (("train", train_ids), ("test", test_ids)):
        for doc_id in part_ids:
            names = [n for n in labels.get(doc_id, []) if n in classes]
            label: Any = names if version.kind == MULTI_LABEL else (names[0] if names else None)
            # The same line training hashed (classifiers.training.TrainingData.snapshot).
            digest.update(f"{part}:{doc_id}:{json.dumps(label, sort_keys=True)}\n".encode())
            if part == "train":
                counts.update(names)
    result = TrainSupport(dict(counts), digest.hexdigest() == version.snapshot.get("tags_sha256"))
    if result.exact:
        with _support_lock:
            _support_cache[key] = result
            while len(_support_cache) > 64:
                _support_cache.popitem(last=False)
    return result


# Loaded models, verified once, kept per (version id, artifact sha256): repeated tries and
# explanations skip reading and hashing the artifact. Small: a model holds its weights.


def cached_model(version: Any) -> Any:
    """The version's model from the process-wide cache the API uses; raises ModelUnavailable."""
    from classifiers.serving import get_model

    return get_model(version)


def clear_caches() -> None:
    from classifiers.serving import clear_cache

    clear_cache()
    with _support_lock:
        _support_cache.clear()
