"""Semantic categories: KMeans with k by silhouette, labelled by top terms."""

from __future__ import annotations

import numpy as np
import pytest

from lakegate.errors import InputError
from lakegate.knowledge import categorize
from lakegate.knowledge._embed_tfidf import TfidfEmbedder

TOPICS = {
    "river": "river water salmon basin sediment delta flood",
    "budget": "budget revenue invoice finance profit quarterly audit",
    "garden": "garden tomatoes compost soil seeds harvest mulch",
}


def topic_texts(per_topic: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(7)
    texts, truth = [], []
    for topic, words in TOPICS.items():
        vocabulary = words.split()
        for _ in range(per_topic):
            texts.append(" ".join(rng.choice(vocabulary, size=12)))
            truth.append(topic)
    return texts, truth


def test_auto_k_finds_the_three_topics_and_labels_them() -> None:
    texts, truth = topic_texts(12)
    vectors = TfidfEmbedder().fit_embed(texts)
    labels, categories = categorize(vectors, texts)
    assert len(categories) == 3
    # Each category is exactly one topic.
    for category in categories:
        members = {truth[i] for i in np.flatnonzero(labels == category.id)}
        assert len(members) == 1
        (topic,) = members
        assert set(category.terms[:3]) <= set(TOPICS[topic].split())
        assert category.label == ", ".join(category.terms[:3])
        assert category.size == 12


def test_categories_are_deterministic_and_numbered_by_size() -> None:
    texts, _ = topic_texts(10)
    texts += ["river water salmon"] * 5  # make one cluster bigger
    vectors = TfidfEmbedder().fit_embed(texts)
    first = categorize(vectors, texts)
    second = categorize(vectors, texts)
    assert np.array_equal(first[0], second[0])
    assert first[1] == second[1]
    sizes = [c.size for c in first[1]]
    assert sizes == sorted(sizes, reverse=True)
    assert "river" in first[1][0].terms


def test_large_inputs_choose_k_on_a_sample_then_label_everything() -> None:
    texts, truth = topic_texts(800)  # 2400 points > the 2000-point silhouette sample
    vectors = TfidfEmbedder().fit_embed(texts)
    labels, categories = categorize(vectors, texts)
    assert len(categories) == 3
    assert len(labels) == len(texts)
    agreement = sum(
        max(np.sum(np.array(truth)[labels == c.id] == topic) for topic in TOPICS) for c in categories
    )
    assert agreement == len(texts)


def test_fixed_k_is_clamped_to_the_number_of_points() -> None:
    texts = ["river salmon", "budget revenue"]
    vectors = TfidfEmbedder().fit_embed(texts)
    labels, categories = categorize(vectors, texts, k=5)
    assert sorted(labels.tolist()) == [0, 1]
    assert len(categories) == 2
    labels, categories = categorize(vectors, texts, k=1)
    assert labels.tolist() == [0, 0]
    assert categories[0].size == 2


def test_tiny_and_empty_inputs() -> None:
    labels, categories = categorize(np.zeros((0, 4), dtype=np.float32), [])
    assert (labels.tolist(), categories) == ([], [])
    vectors = TfidfEmbedder().fit_embed(["only one text about salmon"])
    labels, categories = categorize(vectors, ["only one text about salmon"])
    assert labels.tolist() == [0]
    assert categories[0].terms == ("salmon", "text")
    with pytest.raises(InputError):
        categorize(vectors, ["x"], k=0)


def test_identical_points_do_not_warn() -> None:
    texts = ["same words here"] * 6
    vectors = TfidfEmbedder().fit_embed(texts)
    labels, categories = categorize(vectors, texts, k=3)  # filterwarnings=error would fail on a warning
    assert len(categories) == len(set(labels.tolist()))


def test_words_common_to_every_category_never_label_one() -> None:
    texts, _ = topic_texts(10)
    texts = [f"{text} project project project report" for text in texts]
    vectors = TfidfEmbedder().fit_embed(texts)
    _, categories = categorize(vectors, texts, k=3)
    for category in categories:
        assert "project" not in category.terms
        assert "report" not in category.terms
