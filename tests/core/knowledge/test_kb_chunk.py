"""Text cleanup and chunking."""

from __future__ import annotations

import itertools
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakegate.errors import InputError
from lakegate.knowledge import ChunkOptions, chunk_text, clean_text
from lakegate.knowledge._chunk import clean_texts


def test_clean_text_joins_hyphenated_words_and_collapses_whitespace() -> None:
    raw = "Water  quality\timproved in the north-\nern basin.\r\n\r\n\r\n\r\nNext  paragraph \n"
    assert clean_text(raw) == "Water quality improved in the northern basin.\n\nNext paragraph"


def test_clean_text_keeps_real_hyphens_and_normalises_ligatures() -> None:
    assert clean_text("Jean-\nPaul and 2019-\n2020") == "Jean-\nPaul and 2019-\n2020"
    assert clean_text("e\ufb03cient o\ufb00ice\u00a0space\u00adbar") == "efficient office spacebar"
    assert clean_text("a\x00b\x07c") == "abc"


def test_short_text_is_one_chunk_and_empty_text_none() -> None:
    options = ChunkOptions(size=100, overlap=10)
    assert chunk_text("just a line", options) == ["just a line"]
    assert chunk_text("", options) == []


def test_char_chunks_break_at_sentences_and_overlap() -> None:
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(40)]
    text = " ".join(sentences)
    chunks = chunk_text(text, ChunkOptions(unit="chars", size=200, overlap=50))
    assert len(chunks) > 5
    assert all(len(c) <= 200 for c in chunks)
    assert all(c.endswith(".") for c in chunks)  # every cut found a sentence end
    for before, after in itertools.pairwise(chunks):
        assert after.split()[0] in before  # the next chunk starts inside the previous one's tail
    assert all(s in text for s in sentences)
    assert all(any(s in c for c in chunks) for s in sentences)


def test_token_chunks_are_exact_windows() -> None:
    text = " ".join(f"w{i}" for i in range(12))
    chunks = chunk_text(text, ChunkOptions(unit="tokens", size=5, overlap=2))
    assert chunks == ["w0 w1 w2 w3 w4", "w3 w4 w5 w6 w7", "w6 w7 w8 w9 w10", "w9 w10 w11"]


def test_token_chunks_keep_the_original_spacing() -> None:
    chunks = chunk_text("one two\nthree four", ChunkOptions(unit="tokens", size=3, overlap=0))
    assert chunks == ["one two\nthree", "four"]


def test_options_defaults_per_unit_and_validation() -> None:
    assert ChunkOptions.for_unit("tokens") == ChunkOptions(unit="tokens", size=200, overlap=30)
    assert ChunkOptions.for_unit("chars", size=500) == ChunkOptions(unit="chars", size=500, overlap=75)
    assert ChunkOptions.for_unit("chars", overlap=0).overlap == 0
    with pytest.raises(InputError, match="overlap"):
        ChunkOptions(size=10, overlap=10)
    with pytest.raises(InputError, match="unit"):
        ChunkOptions.for_unit("pages")
    with pytest.raises(InputError, match="at least 1"):
        ChunkOptions(size=0, overlap=0)


words = st.lists(st.from_regex(r"[a-z]{1,12}", fullmatch=True), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(words=words, size=st.integers(20, 300), ratio=st.floats(0, 0.5))
def test_char_chunking_loses_no_word_and_respects_size(words: list[str], size: int, ratio: float) -> None:
    text = clean_text(" ".join(words))
    chunks = chunk_text(text, ChunkOptions(size=size, overlap=int(size * ratio)))
    assert all(0 < len(c) <= size for c in chunks)
    # Every word of the text, in order, is inside some chunk (as a whole word unless longer than the chunk).
    covered = " ".join(chunks)
    for word in set(words):
        assert re.search(rf"\b{word}\b", covered) or len(word) > size // 2


@settings(max_examples=60, deadline=None)
@given(words=words, size=st.integers(1, 50), overlap=st.integers(0, 49))
def test_token_chunking_covers_every_token(words: list[str], size: int, overlap: int) -> None:
    overlap = min(overlap, size - 1)
    chunks = chunk_text(" ".join(words), ChunkOptions(unit="tokens", size=size, overlap=overlap))
    assert all(len(c.split()) <= size for c in chunks)
    step = size - overlap
    rebuilt = chunks[0].split()
    for chunk in chunks[1:]:
        rebuilt += chunk.split()[size - step :]
    assert rebuilt == words


# The cleanup as it was written before it ran in polars: one regex substitution per step, per text.
_OLD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\ufffe\ufeff\u200b]")
_OLD_HSPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_OLD_SPACE_AROUND_NL = re.compile(r" ?\n ?")
_OLD_HYPHENATED = re.compile(r"(?<=[^\W\d_])-\n[ \t]*(?=[a-zß-ÿ])")
_OLD_MANY_NL = re.compile(r"\n{3,}")


def reference_clean(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _OLD_HSPACE.sub(" ", _OLD_CONTROL.sub("", text))
    text = _OLD_SPACE_AROUND_NL.sub("\n", text)
    text = _OLD_HYPHENATED.sub("", text)
    return _OLD_MANY_NL.sub("\n\n", text).strip()


# Every character class the cleanup treats specially, and some it must leave alone
# (NEL, line separator, ogham space mark) because the old version did.
tricky = st.text(
    st.sampled_from(
        list(" \t\n\r-aZé.1ßx\u00a0\u2003\u3000\x00\x07\x0b\x0c\x1f\x7f")
        + list("\u00ad\ufeff\ufffe\u200b\ufb03\x85\u2028\u1680")
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(tricky, max_size=6))
def test_batch_cleanup_equals_the_per_text_regex_version(texts: list[str]) -> None:
    assert clean_texts(texts) == [reference_clean(t) for t in texts]
    assert [clean_text(t) for t in texts] == [reference_clean(t) for t in texts]


def test_a_lone_surrogate_becomes_a_replacement_character() -> None:
    # json.loads('"\\ud800"') yields one; polars (UTF-8) could not hold it.
    assert clean_texts(["a\ud800b", "ok"]) == ["a\ufffdb", "ok"]
