"""Corpus drift: how a rebuilt knowledge base differs from the build before it.

Two numbers a reader of the build report can act on, computed in the new build's vector
space (a corpus-fitted embedder such as TF-IDF learns a new vocabulary on each build, so
the last build's vectors are not comparable as stored):

- ``centroid_shift``: 1 - cosine(mean of the new chunks, mean of the last build's chunks),
  both embedded by the new embedder. 0 is the same centre; a corpus that moved to other
  topics gives a larger value.
- ``new_category_share``: the share of the new chunks that sit in *new* categories, those
  holding (almost) none of the last build's chunks when each is put in its nearest
  category (if it is as close to that category's centre as the category's own members
  are). A folder of a new kind of document shows up here first.

The last build is represented by a deterministic sample of at most ``SAMPLE`` chunks
(every n-th), so a large corpus costs one bounded extra embedding call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from lakegate.knowledge._categories import Category
    from lakegate.knowledge._embed import Embedder

__all__ = ["NEW_CATEGORY_BELOW", "SAMPLE", "corpus_drift"]

SAMPLE: Final = 1000
NEW_CATEGORY_BELOW: Final = 0.01
"""A category is new when less than this share of the last build's chunks fall in it."""


def _unit(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32, copy=False)


def corpus_drift(
    *,
    previous_texts: Sequence[str],
    embedder: Embedder,
    vectors: npt.NDArray[np.float32],
    category_of: Sequence[int],
    categories: Sequence[Category],
    previous_vectors: npt.NDArray[np.float32] | None = None,
) -> dict[str, Any] | None:
    """Drift of the new build (``vectors``, one row per chunk, with its category) from the
    last build's chunk texts; ``None`` when either build has no chunks.

    ``previous_vectors`` (one row per previous text) are used as they are when given: an
    embedder whose vectors depend on the text alone (MiniLM) made them in the same space,
    and embedding again would cost a neural pass.
    """
    import numpy as np

    if not len(previous_texts) or not len(vectors):
        return None
    step = max(1, len(previous_texts) // SAMPLE)
    sample = list(previous_texts[::step][:SAMPLE])
    if previous_vectors is not None and previous_vectors.shape[1:] == vectors.shape[1:]:
        old = np.asarray(previous_vectors[::step][:SAMPLE], dtype=np.float32)
    else:
        old = np.asarray(embedder.embed(sample), dtype=np.float32)
    new_centre, old_centre = _unit(vectors.mean(axis=0)), _unit(old.mean(axis=0))
    shift = float(1.0 - np.clip(new_centre @ old_centre, -1.0, 1.0))

    labels = np.asarray(category_of, dtype=np.int64)
    ids = sorted({c.id for c in categories})
    if not ids:
        return {
            "previous_chunks": len(previous_texts),
            "sampled": len(sample),
            "centroid_shift": round(shift, 6),
            "new_category_share": 0.0,
            "new_categories": [],
            "categories": [],
        }
    unit = _unit(vectors)
    centres = _unit(np.stack([vectors[labels == cid].mean(axis=0) for cid in ids]))
    # An old chunk falls in its nearest category only when it is as close to the centre as
    # the category's own members are (the least close of them): a topic the new corpus lost
    # belongs to no category, and does not make a new one look old.
    reach = np.asarray([float((unit[labels == cid] @ centres[i]).min()) for i, cid in enumerate(ids)])
    similarity = _unit(old) @ centres.T
    best = np.argmax(similarity, axis=1)
    inside = similarity[np.arange(len(best)), best] >= reach[best] - 1e-6
    nearest = np.where(inside, np.asarray(ids)[best], -1)
    before = {cid: float(np.count_nonzero(nearest == cid)) / len(sample) for cid in ids}
    after = {cid: float(np.count_nonzero(labels == cid)) / len(labels) for cid in ids}
    by_id = {c.id: c for c in categories}
    new = [cid for cid in ids if before[cid] < NEW_CATEGORY_BELOW]
    return {
        "previous_chunks": len(previous_texts),
        "sampled": len(sample),
        "centroid_shift": round(shift, 6),
        "new_category_share": round(float(sum(after[cid] for cid in new)), 6),
        "new_categories": [by_id[cid].label for cid in new],
        "categories": [
            {
                "id": cid,
                "label": by_id[cid].label,
                "before": round(before[cid], 6),
                "after": round(after[cid], 6),
            }
            for cid in ids
        ],
    }
