"""tfidf: text columns -> TF-IDF weights of a vocabulary learned at training.

The vocabulary and the inverse document frequencies are the step's state (JSON, stored with
the model), so batch and single-row prediction weigh words exactly as training did; the
weights come from scikit-learn's ``TfidfVectorizer`` given that vocabulary and idf back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakegate.errors import PipelineError
from lakegate.features._base import Row, State, StepImpl, require_columns
from lakegate.features._configs import TfidfStep

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Tfidf"]


class Tfidf(StepImpl[TfidfStep]):
    def _vectorizer(self, vocabulary: list[str] | None = None, idf: list[float] | None = None) -> Any:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        config = self.config
        vectorizer = TfidfVectorizer(
            lowercase=config.lowercase,
            ngram_range=(1, config.ngrams),
            max_features=None if vocabulary else config.max_features,
            min_df=1 if vocabulary else config.min_df,
            vocabulary=vocabulary,
            dtype=np.float64,
        )
        if vocabulary is not None and idf is not None:
            vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
        return vectorizer

    def fit(self, frame: pl.LazyFrame) -> State:
        import polars as pl

        schema = require_columns(frame, self.config.columns, "tfidf")
        bad = [f"{c} ({schema[c]})" for c in self.config.columns if schema[c] != pl.String]
        if bad:
            raise PipelineError(
                f"step tfidf: text columns only, not {', '.join(bad)}",
                detail={"step": "tfidf", "columns": bad},
            )
        texts = frame.select([pl.col(c).fill_null("") for c in self.config.columns]).collect()
        learned: dict[str, Any] = {}
        for column in self.config.columns:
            vectorizer = self._vectorizer()
            try:
                vectorizer.fit(texts.get_column(column).to_list())
            except ValueError as exc:  # no term left (empty texts, min_df too high)
                raise PipelineError(
                    f"step tfidf: column {column!r} gives no vocabulary ({exc}); lower min_df?",
                    detail={"step": "tfidf", "column": column},
                ) from exc
            terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            learned[column] = {
                "terms": terms,
                "idf": [float(v) for v in vectorizer.idf_],
                "names": [f"{column}_tfidf_{i}" for i in range(len(terms))],
            }
        return {"columns": learned}

    def _weights(self, column: str, state: State, texts: list[Any]) -> Any:
        learned = state["columns"][column]
        vectorizer = self._vectorizer(learned["terms"], learned["idf"])
        return vectorizer.transform(["" if t is None else str(t) for t in texts]).toarray()

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        import polars as pl

        schema = frame.collect_schema()
        present = [c for c in state["columns"] if c in schema]
        if not present:
            return frame
        collected = frame.collect()
        blocks = []
        for column in present:
            weights = self._weights(column, state, collected.get_column(column).to_list())
            blocks.append(pl.DataFrame(weights, schema=state["columns"][column]["names"], orient="row"))
        if self.config.drop_original:
            collected = collected.drop(present)
        return pl.concat([collected, *blocks], how="horizontal").lazy()

    def transform_row(self, row: Row, state: State) -> Row:
        for column, learned in state["columns"].items():
            if column not in row:
                continue
            text = row.pop(column) if self.config.drop_original else row[column]
            weights = self._weights(column, state, [text])[0]
            row.update(zip(learned["names"], (float(w) for w in weights), strict=True))
        return row
