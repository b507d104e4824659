"""Term counts of many texts at once: one polars pass tokenizes, one scipy call counts.

Tokens are what scikit-learn's default ``token_pattern`` ``(?u)\\b\\w\\w+\\b`` finds in the
lower-cased text: maximal runs of word characters, at least two long. Python's ``\\w`` is
letters, numbers and the underscore, so the Rust pattern ``[\\p{L}\\p{N}_]{2,}`` finds the same
runs (Rust's own ``\\w`` also takes combining marks, which Python's does not); queries are
tokenized with Python's ``re`` and the two agree (a test checks it on mixed scripts).

The vocabulary comes out sorted (code-point order, as scikit-learn sorts it), so a matrix built
here is column for column the one ``CountVectorizer`` would build.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ENGLISH_STOP_WORDS", "TOKEN_PATTERN", "count_terms", "select_terms"]

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # noqa: S105 - scikit-learn's default token regex, not a secret
_WORD = r"[\p{L}\p{N}_]"  # Python's \w in Rust regex syntax
_LETTERS_ONLY = r"^[\p{L}\p{Nl}\p{No}]+$"  # Python's [^\W\d_]: no decimal digit, no underscore

# scikit-learn's English stop words (sklearn.feature_extraction.text.ENGLISH_STOP_WORDS, from
# the Glasgow Information Retrieval Group), copied so a build never imports scikit-learn; a test
# keeps the two equal.
_STOP_TEXT = """
a about above across after afterwards again against all almost alone along already also although
always am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere
are around as at back be became because become becomes becoming been before beforehand behind
being below beside besides between beyond bill both bottom but by call can cannot cant co con
could couldnt cry de describe detail do done down due during each eg eight either eleven else
elsewhere empty enough etc even ever every everyone everything everywhere except few fifteen
fifty fill find fire first five for former formerly forty found four from front full further get
give go had has hasnt have he hence her here hereafter hereby herein hereupon hers herself him
himself his how however hundred i ie if in inc indeed interest into is it its itself keep last
latter latterly least less ltd made many may me meanwhile might mill mine more moreover most
mostly move much must my myself name namely neither never nevertheless next nine no nobody none
noone nor not nothing now nowhere of off often on once one only onto or other others otherwise
our ours ourselves out over own part per perhaps please put rather re same see seem seemed
seeming seems serious several she should show side since sincere six sixty so some somehow
someone something sometime sometimes somewhere still such system take ten than that the their
them themselves then thence there thereafter thereby therefore therein thereupon these they
thick thin third this those though three through throughout thru thus to together too top toward
towards twelve twenty two un under until up upon us very via was we well were what whatever
when whence whenever where whereafter whereas whereby wherein whereupon wherever whether which
while whither who whoever whole whom whose why will with within without would yet you your
yours yourself yourselves
"""
ENGLISH_STOP_WORDS = frozenset(_STOP_TEXT.split())


def count_terms(
    texts: Sequence[str], *, min_length: int = 2, letters_only: bool = False
) -> tuple[Any, list[str]]:
    """``(counts, terms)``: a CSR matrix of term counts (one row per text) and its sorted terms.

    ``min_length`` is the shortest token kept; ``letters_only`` keeps only tokens with no digit
    and no underscore (scikit-learn's ``\\b[^\\W\\d_]{n,}\\b``: a word glued to a digit is dropped).
    """
    import polars as pl
    from scipy.sparse import csr_matrix

    lists = (
        pl.Series("text", texts, dtype=pl.String)
        .str.to_lowercase()
        .str.extract_all(f"{_WORD}{{{min_length},}}")
    )
    if letters_only:
        lists = lists.list.filter(pl.element().str.contains(_LETTERS_ONLY))
    lengths = lists.list.len().to_numpy()
    tokens = lists.explode(empty_as_null=False)
    if not len(tokens):
        return csr_matrix((len(texts), 0), dtype=np.float32), []
    # A private category set numbers the distinct tokens 0..k-1 in one hashing pass; polars
    # sorts strings by code point, as Python does.
    # (The categorical series must outlive the reading of its categories: they go with it.)
    categories = pl.Categories.random()
    encoded = tokens.cast(pl.Categorical(categories))
    codes = encoded.to_physical().to_numpy()
    names = categories.to_series()
    del encoded
    order = names.arg_sort().to_numpy()
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    rows = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
    # Building CSR from (row, column) pairs sums the repeats: the counts.
    counts = csr_matrix(
        (np.ones(len(codes), dtype=np.float32), (rows, rank[codes].astype(np.int32))),
        shape=(len(texts), len(names)),
    )
    counts.sum_duplicates()
    return counts, names.gather(order).to_list()


def select_terms(
    counts: Any,
    terms: list[str],
    *,
    min_df: int = 1,
    max_df: float = 1.0,
    max_features: int | None = None,
    stop_words: frozenset[str] = ENGLISH_STOP_WORDS,
) -> npt.NDArray[np.int64]:
    """Columns to keep, as scikit-learn's vectorizers choose them, in vocabulary order.

    Stop words go, then terms in fewer than ``min_df`` texts or more than ``max_df`` of them;
    past ``max_features`` the most frequent stay (ties to the alphabetically first, where
    scikit-learn's unstable sort picks any).
    """
    n_texts = counts.shape[0]
    df = np.bincount(counts.indices, minlength=len(terms))
    keep = (df >= min_df) & (df <= max_df * n_texts)
    if stop_words:
        keep &= ~np.fromiter((t in stop_words for t in terms), dtype=bool, count=len(terms))
    columns = np.flatnonzero(keep)
    if max_features is not None and len(columns) > max_features:
        totals = np.bincount(counts.indices, weights=counts.data, minlength=len(terms))[columns]
        columns = np.sort(columns[np.argsort(-totals, kind="stable")[:max_features]])
    return columns
