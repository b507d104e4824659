"""The document tree of ``benchmarks/kb.py``: 10k md/txt/html files, ~36 MB, 274 folders.

Each document has a topic (one of 20 made-up vocabularies); its text is sentences of words
drawn ~35% from the topic, ~50% from a 30,000-word general vocabulary with Zipf frequencies and
~15% from English stop words, in paragraphs, with headings and lists where the format has them.
HTML carries a ``<head>`` with a style block and a script (not visible text). Folders: 12
departments, 12 units each, and a third level under 118 of the units (12 + 144 + 118 = 274);
a department's documents are on its own topic 70% of the time, so folders mean something.
Sizes are log-normal (median ~2.5 KB, mean ~3.6 KB, a few up to ~38 KB). Fixed seed, kept between runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

TOPICS = 20
DEPARTMENTS = 12
UNITS = 12
THIRD_LEVEL = 118
FORMAT_VERSION = 5

STOP_TEXT = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which "
    "but have an they you were their one all we can her has there been if more when will would "
    "who so no"
)
SYLLABLE_TEXT = "ka lo mi ne ru sa ti vo ze pa qui dor fen gal hes jun kir lum mor nix"
STOP, SYLLABLES = STOP_TEXT.split(), SYLLABLE_TEXT.split()


def _words(rng: np.random.Generator, count: int, seen: set[str]) -> list[str]:
    """``count`` made-up, pronounceable, distinct words (not in ``seen``)."""
    out: list[str] = []
    while len(out) < count:
        word = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5))))
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


def vocabularies(seed: int = 0) -> tuple[list[list[str]], list[str], np.ndarray]:
    """20 topics of 300 words, and a 30k-word general vocabulary with Zipf-like weights."""
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    topics = [_words(rng, 300, seen) for _ in range(TOPICS)]
    general = _words(rng, 30_000, seen)
    weights = 1.0 / np.arange(1, len(general) + 1) ** 1.05
    return topics, general, weights / weights.sum()


def folders() -> list[str]:
    """The 274 folders (relative, POSIX), departments first."""
    tops = [f"dept{d:02d}" for d in range(DEPARTMENTS)]
    units = [f"{top}/unit{u:02d}" for top in tops for u in range(UNITS)]
    third = [f"{unit}/{['archive', 'drafts'][i % 2]}" for i, unit in enumerate(units[:THIRD_LEVEL])]
    return tops + units + third


class _Writer:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed + 1)
        self.topics, general, weights = vocabularies(seed)
        self.general = np.array(general)
        self.cdf = np.cumsum(weights) / weights.sum()
        self.stop = np.array(STOP)
        self.topic_words = [np.array(t) for t in self.topics]

    def sentences(self, topic: int, n_words: int) -> list[str]:
        rng = self.rng
        n_topic, n_stop = int(n_words * 0.35), int(n_words * 0.15)
        words = np.concatenate(
            [
                rng.choice(self.topic_words[topic], size=n_topic),
                self.general[np.searchsorted(self.cdf, rng.random(n_words - n_topic - n_stop))],
                rng.choice(self.stop, size=n_stop),
            ]
        )
        rng.shuffle(words)
        out, start = [], 0
        while start < len(words):
            length = int(rng.integers(6, 26))
            part = words[start : start + length].tolist()
            start += length
            if len(part) > 4 and rng.random() < 0.3:
                part[len(part) // 2] += ","
            end = ".?!"[int(rng.choice(3, p=[0.9, 0.07, 0.03]))]
            out.append(" ".join([part[0].capitalize(), *part[1:]]) + end)
        return out

    def paragraphs(self, topic: int, n_words: int) -> list[str]:
        sentences = self.sentences(topic, n_words)
        out, start = [], 0
        while start < len(sentences):
            size = int(self.rng.integers(2, 8))
            out.append(" ".join(sentences[start : start + size]))
            start += size
        return out

    def title(self, topic: int) -> str:
        return " ".join(self.rng.choice(self.topic_words[topic], size=3)).title()

    def render(self, kind: str, topic: int, n_words: int) -> str:
        title, paras = self.title(topic), self.paragraphs(topic, n_words)
        if kind == "txt":
            return f"{title}\n\n" + "\n\n".join(paras) + "\n"
        if kind == "md":
            lines = [f"# {title}", ""]
            for i, para in enumerate(paras):
                if i and i % 3 == 0:
                    lines += [f"## {self.title(topic)}", ""]
                if i % 5 == 4:
                    lines += [f"- {s}" for s in para.split(". ") if s] + [""]
                else:
                    lines += [para, ""]
            return "\n".join(lines)
        body = []
        for i, para in enumerate(paras):
            if i and i % 3 == 0:
                body.append(f"<h2>{self.title(topic)}</h2>")
            if i % 5 == 4:
                items = "".join(f"<li>{s}</li>" for s in para.split(". ") if s)
                body.append(f"<ul>{items}</ul>")
            else:
                body.append(f'<p class="body">{para.replace(" the ", " <em>the</em> ", 1)}</p>')
        return (
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
            "<style>body{font-family:sans-serif} .body{margin:0 0 1em}</style>"
            "<script>window.track && window.track('page');</script></head>\n<body>"
            f"<h1>{title}</h1>\n" + "\n".join(body) + "\n</body></html>\n"
        )


def generate(root: Path, docs: int = 10_000, seed: int = 0) -> dict[str, int]:
    """Write the tree under ``root`` (unless the same one is there): path -> topic of each document."""
    marker = root / ".params.json"
    params = {"docs": docs, "seed": seed, "version": FORMAT_VERSION}
    if marker.is_file():
        saved = json.loads(marker.read_text())
        if saved.get("params") == params:
            return dict(saved["topics"])
    shutil.rmtree(root, ignore_errors=True)
    writer = _Writer(seed)
    rng = writer.rng
    names = folders()
    for name in names:
        (root / name).mkdir(parents=True, exist_ok=True)
    kinds = rng.choice(["txt", "md", "html"], size=docs, p=[0.4, 0.35, 0.25])
    where = rng.integers(0, len(names), size=docs)
    sizes = np.clip(rng.lognormal(np.log(290), 0.75, size=docs), 30, 4200).astype(int)
    topics: dict[str, int] = {}
    for i in range(docs):
        folder = names[int(where[i])]
        department = int(folder[4:6])
        topic = department if rng.random() < 0.7 else int(rng.integers(TOPICS))
        path = f"{folder}/doc{i:05d}.{kinds[i]}"
        (root / path).write_text(writer.render(str(kinds[i]), topic, int(sizes[i])), encoding="utf-8")
        topics[path] = topic
    marker.write_text(json.dumps({"params": params, "topics": topics}))
    return topics
