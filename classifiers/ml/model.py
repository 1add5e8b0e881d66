"""The trained model: predictions, calibrated scores and explanations.

The object holds only numpy arrays, plain Python values and our own small classes (no
scikit-learn estimator), so an artifact stays loadable across scikit-learn upgrades; the hash
function it depends on (MurmurHash3 in FeatureHasher) is fixed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from .base import CLOSE_MATCH, KIND_BINARY, KIND_MULTI, KIND_SINGLE, MATCH, NO_MATCH, NOT_MATCH
from .features import HashedTfidf
from .linear import apply_platt, apply_temperature, decision

_CHUNK = 5000  # documents vectorised at once in predict: bounds memory on big batches


class TrainedModel:
    """A linear one-vs-rest model over hashed TF-IDF features, with calibration.

    predict_scores(texts) returns calibrated probabilities of shape (n, len(classes)):
    - single_label: a softmax over the classes (rows sum to 1);
    - multi_label: one independent probability per class;
    - trainable: shape (n, 1), P(match); ``classes == ["match"]``. ``match_scores()`` gives (n,).
    predict(texts) uses, for trainable models, the settable ``threshold`` and
    ``close_match_lower`` (both on the P(match) scale): >= threshold "match",
    >= close_match_lower "close_match", else "no_match".
    """

    def __init__(
        self,
        kind: str,
        classes: Sequence[str],
        vectorizer: HashedTfidf,
        coef_t: np.ndarray,
        intercept: np.ndarray,
        calibration: dict,
        params: dict,
        term_names: dict[int, str],
        thresholds: Sequence[float] | None = None,
        threshold: float | None = None,
        close_match_lower: float | None = None,
    ) -> None:
        self.kind = kind
        self.classes = list(classes)
        self.vectorizer = vectorizer
        self.coef_t = np.ascontiguousarray(coef_t, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.calibration = calibration
        self.params = params
        self.term_names = term_names
        self.thresholds = None if thresholds is None else np.asarray(thresholds, dtype=float)
        self.threshold = threshold
        self.close_match_lower = close_match_lower

    def __repr__(self) -> str:
        return f"<TrainedModel {self.kind} classes={len(self.classes)} features={self.coef_t.shape[0]}>"

    # ------------------------------------------------------------------ scores and predictions

    def decision_scores(self, texts: Sequence[str]) -> np.ndarray:
        """Raw linear scores (n, k) before calibration."""
        texts = list(texts)
        out = np.zeros((len(texts), self.coef_t.shape[1]), dtype=np.float64)
        for start in range(0, len(texts), _CHUNK):
            x = self.vectorizer.transform(texts[start : start + _CHUNK])
            out[start : start + _CHUNK] = decision(x, self.coef_t, self.intercept)
        return out

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        cal = self.calibration
        if cal["method"] == "temperature":
            return apply_temperature(raw, cal["temperature"])
        probs = apply_platt(raw, np.asarray(cal["a"]), np.asarray(cal["b"]))
        divide_by = cal.get("divide_by", 1.0)  # Elkan-Noto's c for positive-unlabelled models
        if divide_by != 1.0:
            probs = np.clip(probs / divide_by, 0.0, 1.0)
        return probs

    def predict_scores(self, texts: Sequence[str]) -> np.ndarray:
        return self.calibrate(self.decision_scores(texts))

    def match_scores(self, texts: Sequence[str]) -> np.ndarray:
        """Trainable models: P(match) as a 1-D array."""
        self._require(KIND_BINARY)
        return self.predict_scores(texts)[:, 0]

    def predict(self, texts: Sequence[str]) -> list:
        raw = self.decision_scores(texts)
        return self.predict_from_scores(raw, calibrated=False)

    def predict_from_scores(self, scores: np.ndarray, calibrated: bool = True) -> list:
        """Predictions from scores already computed (avoids vectorising twice)."""
        if self.kind == KIND_SINGLE:
            # The temperature is monotone: the argmax of raw and calibrated scores is the same.
            return [self.classes[i] for i in np.argmax(scores, axis=1)]
        probs = scores if calibrated else self.calibrate(scores)
        if self.kind == KIND_MULTI:
            hits = probs >= self.thresholds
            return [[c for c, h in zip(self.classes, row, strict=True) if h] for row in hits]
        return [self.label_for(float(p)) for p in probs[:, 0]]

    def label_for(self, p_match: float) -> str:
        if p_match >= self.threshold:
            return MATCH
        if self.close_match_lower is not None and p_match >= self.close_match_lower:
            return CLOSE_MATCH
        return NO_MATCH

    # ------------------------------------------------------------------ explanations

    def _class_index(self, class_name: str | None, raw: np.ndarray | None = None) -> tuple[int, float]:
        """Column of the class to explain and the sign to apply (-1 explains 'not_match')."""
        if self.kind == KIND_BINARY:
            if class_name in (None, MATCH):
                return 0, 1.0
            if class_name in (NOT_MATCH, NO_MATCH):
                return 0, -1.0
            raise ValueError(f"unknown class {class_name!r} for a trainable classifier")
        if class_name is None:
            return int(np.argmax(raw)) if raw is not None else 0, 1.0
        try:
            return self.classes.index(class_name), 1.0
        except ValueError:
            raise ValueError(f"unknown class {class_name!r}") from None

    def _term_contributions(self, text: str, class_name: str | None) -> dict[str, float]:
        """Each term's share of the class score: its tf-idf value times the class weight."""
        vec = self.vectorizer
        terms = vec.analyzer(text)
        if not terms:
            return {}
        x = vec.transform([text])
        raw = decision(x, self.coef_t, self.intercept)[0]
        j, sign = self._class_index(class_name, raw)
        row_vals = dict(zip(x.indices.tolist(), x.data.tolist(), strict=True))
        unique = list(dict.fromkeys(terms))
        cols = vec.col_map[vec.hash_terms(unique)].tolist()
        # Terms that collide into one column share its contribution equally.
        per_col = Counter(c for c in cols if c >= 0)
        out: dict[str, float] = {}
        for term, col in zip(unique, cols, strict=True):
            if col < 0:
                continue
            value = row_vals.get(col, 0.0) * float(self.coef_t[col, j]) * sign / per_col[col]
            if value != 0.0:
                out[term] = value
        return out

    def explain(self, text: str, class_name: str | None = None, n: int = 30) -> list[tuple[str, float]]:
        """Top ``n`` terms of ``text`` by absolute contribution to ``class_name``'s score.

        Default class: the predicted (top-scoring) class; for trainable models, "match".
        Positive weights push towards the class, negative ones away from it.
        """
        contrib = self._term_contributions(text, class_name)
        ranked = sorted(contrib.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:n]
        return [(t, float(w)) for t, w in ranked]

    def explain_spans(self, text: str, class_name: str | None = None) -> list[tuple[int, int, float]]:
        """(start, end, weight) per token of ``text`` that moves the class score, in text order.

        Offsets index the original string (the model reads only its first ``max_chars``
        characters). A term's contribution is split evenly over its occurrences, and a
        bigram's half-and-half over its two tokens, so the spans never overlap and their
        weights add up to the class score minus its intercept.
        """
        contrib = self._term_contributions(text, class_name)
        if not contrib:
            return []
        spans = self.vectorizer.analyzer.token_spans(text)
        toks = [s[0] for s in spans]
        terms = self.vectorizer.analyzer.terms_from_tokens(toks)
        occurrences = Counter(terms)
        weights = [0.0] * len(spans)
        for i, tok in enumerate(toks):
            if tok in contrib:
                weights[i] += contrib[tok] / occurrences[tok]
        if self.vectorizer.analyzer.ngram_max >= 2:
            for i in range(len(toks) - 1):
                bigram = toks[i] + " " + toks[i + 1]
                if bigram in contrib:
                    share = contrib[bigram] / occurrences[bigram] / 2.0
                    weights[i] += share
                    weights[i + 1] += share
        return [(start, end, float(w)) for (_, start, end), w in zip(spans, weights, strict=True) if w != 0.0]

    def top_terms(self, n: int = 20) -> dict[str, list[tuple[str, float]]]:
        """The ``n`` most indicative terms of each class (largest weights), named from training data.

        Trainable models give "match" (largest weights) and "not_match" (most negative).
        """
        out: dict[str, list[tuple[str, float]]] = {}
        targets = [(c, j, 1.0) for j, c in enumerate(self.classes)]
        if self.kind == KIND_BINARY:
            targets = [(MATCH, 0, 1.0), (NOT_MATCH, 0, -1.0)]
        for name, j, sign in targets:
            weights = self.coef_t[:, j] * sign
            order = np.argsort(-weights, kind="mergesort")
            terms: list[tuple[str, float]] = []
            for col in order[: max(10 * n, 200)]:  # names exist for the top columns only
                w = float(weights[col])
                if w <= 0 or len(terms) >= n:
                    break
                term = self.term_names.get(int(col))
                if term is not None:
                    terms.append((term, w))
            out[name] = terms
        return out

    def _require(self, kind: str) -> None:
        if self.kind != kind:
            raise ValueError(f"only for {kind} models; this one is {self.kind}")
