"""Term counting, TF-IDF, SVD and k-means of the build, checked against scikit-learn and numpy.

The build no longer imports scikit-learn; these tests do, as the reference it must agree with.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SKLEARN_STOP_WORDS
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics import silhouette_score

from lakegate.knowledge._embed_tfidf import TfidfEmbedder, _tfidf
from lakegate.knowledge._kmeans import kmeans, pairwise_distances, silhouette
from lakegate.knowledge._lsa import truncated_svd
from lakegate.knowledge._terms import ENGLISH_STOP_WORDS, TOKEN_PATTERN, count_terms, select_terms

WORDS_TEXT = (
    "river salmon basin delta budget revenue invoice garden tomato compost soil galaxy orbit comet "
    "the of and a to is on for with data report"
)
WORDS = WORDS_TEXT.split()


def corpus(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(3, 30)))) for _ in range(n)]


# Letters, digits, marks and punctuation of several scripts: where Python's \w and Rust's differ.
mixed = st.text(
    st.sampled_from(list("aZé_1²½Ⅻ٣ह िक् Ωσς İß中文  -.,'\t\nx\u0301\u200d·")),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(mixed, min_size=1, max_size=5))
def test_tokens_are_what_python_re_finds_at_query_time(texts: list[str]) -> None:
    counts, terms = count_terms(texts)
    pattern = re.compile(TOKEN_PATTERN)
    for row, text in enumerate(texts):
        expected: dict[str, int] = {}
        for token in pattern.findall(text.lower()):
            expected[token] = expected.get(token, 0) + 1
        start, end = counts.indptr[row], counts.indptr[row + 1]
        pairs = zip(counts.indices[start:end], counts.data[start:end], strict=True)
        found = {terms[c]: int(v) for c, v in pairs}
        assert found == expected


def test_stop_words_are_scikit_learns() -> None:
    assert frozenset(SKLEARN_STOP_WORDS) == ENGLISH_STOP_WORDS


@pytest.mark.parametrize(("min_df", "max_df"), [(1, 1.0), (2, 0.95)])
def test_tfidf_matches_scikit_learns_vectorizer(min_df: int, max_df: float) -> None:
    texts = corpus(300)
    reference = TfidfVectorizer(
        token_pattern=TOKEN_PATTERN, stop_words="english", sublinear_tf=True, dtype=np.float32,
        min_df=min_df, max_df=max_df,
    )  # fmt: skip
    expected = reference.fit_transform(texts)
    counts, terms = count_terms(texts)
    columns = select_terms(counts, terms, min_df=min_df, max_df=max_df)
    matrix, idf = _tfidf(counts[:, columns])
    assert [terms[i] for i in columns] == reference.get_feature_names_out().tolist()
    assert np.allclose(idf, reference.idf_, atol=1e-6)
    assert np.allclose(matrix.toarray(), expected.toarray(), atol=1e-6)


def test_max_features_keeps_the_most_frequent_and_breaks_ties_alphabetically() -> None:
    texts = ["alpha beta gamma", "beta gamma", "gamma delta", "delta epsilon"]
    counts, terms = count_terms(texts)
    kept = [terms[i] for i in select_terms(counts, terms, max_features=3)]
    # gamma 3, beta 2, delta 2, then alpha and epsilon tie at 1: alpha wins.
    assert kept == ["beta", "delta", "gamma"]
    four = [terms[i] for i in select_terms(counts, terms, max_features=4)]
    assert four == ["alpha", "beta", "delta", "gamma"]


def test_label_words_match_a_letters_only_count_vectorizer() -> None:
    texts = ["river2 rivers salmon_run abc de Élan x2y 12 watershed", "élan élan basins ab3 delta"]
    reference = CountVectorizer(stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
    expected = reference.fit_transform(texts)
    counts, terms = count_terms(texts, min_length=3, letters_only=True)
    columns = select_terms(counts, terms)
    assert [terms[i] for i in columns] == reference.get_feature_names_out().tolist()
    assert np.array_equal(counts[:, columns].toarray(), expected.toarray())


def test_empty_and_stop_word_only_texts_give_an_empty_vocabulary() -> None:
    counts, terms = count_terms(["", "a I", "the and"])
    assert counts.shape[0] == 3
    assert not len(select_terms(counts, terms))
    vectors = TfidfEmbedder().fit_embed(["the and", "of to"])
    assert vectors.shape == (2, 1)
    assert not vectors.any()


def low_rank(n: int, terms: int, rank: int, seed: int = 0) -> sp.csr_matrix:
    """A sparse non-negative matrix whose spectrum decays: ``rank`` topics plus noise."""
    rng = np.random.default_rng(seed)
    topics = rng.random((rank, terms)) ** 8
    weights = rng.random((n, rank)) ** 4 * (0.7 ** np.arange(rank))
    dense = weights @ topics + rng.random((n, terms)) * 0.01
    dense[dense < np.quantile(dense, 0.9)] = 0
    return sp.csr_matrix(dense.astype(np.float32))


def test_svd_matches_the_exact_decomposition() -> None:
    x = low_rank(600, 900, 40)
    components, projected = truncated_svd(x, 30)
    assert components.shape == (30, 900)
    assert np.allclose(components @ components.T, np.eye(30), atol=1e-4)
    assert np.allclose(projected, x @ components.T, atol=1e-4)
    _, singular, vt = np.linalg.svd(x.toarray().astype(np.float64), full_matrices=False)
    found = np.linalg.norm(projected, axis=0)
    # The leading directions exactly; the tail, where the spectrum flattens, nearly (randomized).
    assert np.allclose(found[:10], singular[:10], rtol=1e-3)
    assert (found**2).sum() >= 0.98 * (singular[:30] ** 2).sum()
    overlap = np.linalg.svd(components[:10].astype(np.float64) @ vt[:10].T, compute_uv=False)
    assert overlap.min() > 0.999


def test_svd_is_deterministic_and_orders_components_by_weight() -> None:
    x = low_rank(400, 500, 20, seed=3)
    first, rows = truncated_svd(x, 16, seed=5)
    second, _ = truncated_svd(x, 16, seed=5)
    assert np.array_equal(first, second)
    weights = np.linalg.norm(rows, axis=0)
    assert np.all(np.diff(weights) <= 1e-6)


def test_svd_of_a_matrix_of_lower_rank_returns_fewer_components() -> None:
    rng = np.random.default_rng(1)
    x = sp.csr_matrix((rng.random((300, 4)) @ rng.random((4, 400))).astype(np.float32))
    components, projected = truncated_svd(x, 50)
    assert len(components) == 4
    assert np.allclose(projected @ components, x.toarray(), atol=1e-4)


def test_kmeans_finds_planted_clusters() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 16)) * 10
    truth = rng.integers(4, size=800)
    data = centers[truth] + rng.normal(size=(800, 16))
    result = kmeans(data, 4, seed=0)
    pairs = set(zip(truth.tolist(), result.labels.tolist(), strict=True))
    assert len(pairs) == 4  # one found cluster per planted one
    assert kmeans(data, 4, seed=0).labels.tolist() == result.labels.tolist()
    refined = kmeans(data.astype(np.float32), 4, seed=0, init=result.centers)
    assert np.array_equal(refined.labels, result.labels)


def test_silhouette_matches_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    data = rng.normal(size=(300, 8))
    labels = rng.integers(3, size=300)
    labels[0] = 3  # a cluster of one point scores 0
    expected = silhouette_score(data, labels)
    assert silhouette(pairwise_distances(data), labels) == pytest.approx(expected, abs=1e-9)
