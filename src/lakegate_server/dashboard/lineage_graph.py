"""Lineage as a left-to-right graph for inline SVG: the geometry here, the drawing in a template.

Columns are stages of the path (file -> dataset version -> models -> prediction tables); each
node sits in its column, edges join a node to the nodes of the next column it feeds. No
layout library and no JavaScript: a handful of nodes per column is what a lineage has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Edge", "Graph", "Node", "dataset_graph", "model_graph"]

_NODE_W, _NODE_H, _GAP_X, _GAP_Y, _PAD = 190, 44, 60, 14, 10


@dataclass
class Node:
    key: str
    label: str
    sub: str = ""
    url: str = ""
    kind: str = "dataset"  # file, dataset, model, predictions
    feeds: list[str] = field(default_factory=list)
    x: int = 0
    y: int = 0


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Graph:
    width: int
    height: int
    node_width: int
    node_height: int
    nodes: list[Node]
    edges: list[Edge]
    title: str


def _layout(columns: list[list[Node]], title: str) -> Graph:
    columns = [c for c in columns if c]
    tallest = max((len(c) for c in columns), default=1)
    height = _PAD * 2 + tallest * _NODE_H + (tallest - 1) * _GAP_Y
    for index, column in enumerate(columns):
        top = (height - (len(column) * _NODE_H + (len(column) - 1) * _GAP_Y)) / 2
        for row, node in enumerate(column):
            node.x = _PAD + index * (_NODE_W + _GAP_X)
            node.y = round(top + row * (_NODE_H + _GAP_Y))
    placed = {node.key: node for column in columns for node in column}
    edges = [
        Edge(node.x + _NODE_W, node.y + _NODE_H / 2, target.x, target.y + _NODE_H / 2)
        for node in placed.values()
        for key in node.feeds
        if (target := placed.get(key)) is not None
    ]
    width = _PAD * 2 + len(columns) * _NODE_W + max(len(columns) - 1, 0) * _GAP_X
    return Graph(
        width=int(width),
        height=int(height),
        node_width=_NODE_W,
        node_height=_NODE_H,
        nodes=list(placed.values()),
        edges=edges,
        title=title,
    )


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dataset_graph(lineage: dict[str, Any], *, urls: dict[str, str] | None = None) -> Graph:
    """The graph of :func:`lakegate_server.lineage.selectors.dataset_lineage`'s answer."""
    urls = urls or {}
    node = lineage["node"]
    me = Node(
        key="me",
        label=f"{node['dataset']} v{node['version']}",
        sub=f"{node['status']} · {node['rows']:,} rows",
        url=urls.get("me", ""),
    )
    up = lineage["upstream"]
    file = up["file"]
    sources = [
        Node(
            key="file",
            label=_short(file["name"] or "(no name)"),
            sub=f"{file['via']} · {file['sha256'][:10]}",
            kind="file",
            feeds=["me"],
        )
    ]
    if "model" in up:
        sources.append(
            Node(
                key="maker",
                label=f"model {up['model']['model']} v{up['model']['version']}",
                sub="scored it",
                kind="model",
                feeds=["me"],
            )
        )
    down = lineage["downstream"]
    fed = [
        Node(
            key=f"m{m['model']}:{m['version']}",
            label=f"model {m['model']} v{m['version']}",
            sub=f"trained on it · {m['stage']}",
            kind="model",
            url=urls.get(f"model:{m['model']}:{m['version']}", ""),
        )
        for m in down["models"]
    ] + [
        Node(
            key=f"p{p['id']}",
            label=_short(p["output"]),
            sub=f"scored by {p['model']} v{p['model_version']} · {p['rows']:,} rows",
            kind="predictions",
        )
        for p in down["predictions"]
    ]
    me.feeds = [n.key for n in fed]
    return _layout([sources, [me], fed], f"Lineage of {me.label}")


def model_graph(lineage: dict[str, Any], *, urls: dict[str, str] | None = None) -> Graph:
    """The graph of :func:`lakegate_server.lineage.selectors.model_lineage`'s answer."""
    urls = urls or {}
    node = lineage["node"]
    me = Node(key="me", label=f"model {node['model']} v{node['version']}", sub=node["stage"], kind="model")
    data = lineage["upstream"]["training_data"]
    versions = [
        Node(
            key=f"d{d['dataset']}:{d['version']}",
            label=f"{d['dataset']} v{d['version']}",
            sub=f"{d['status']} · {d['rows']:,} rows",
            feeds=["me"],
            url=urls.get(f"dataset:{d['dataset']}:{d['version']}", ""),
        )
        for d in data
    ]
    files = [
        Node(
            key=f"f{d['dataset']}:{d['version']}",
            label=_short(d["file"]["name"] or "(no name)"),
            sub=f"{d['file']['via']} · {d['file']['sha256'][:10]}",
            kind="file",
            feeds=[f"d{d['dataset']}:{d['version']}"],
        )
        for d in data
    ]
    outputs = [
        Node(
            key=f"p{p['id']}", label=_short(p["output"]), sub=f"{p['rows']:,} predictions", kind="predictions"
        )
        for p in lineage["downstream"]["predictions"]
    ]
    online = lineage["downstream"].get("online_predictions") or {}
    if online.get("records"):
        outputs.append(
            Node(
                key="online",
                label=_short(online["dataset"]),
                sub=f"{online['records']:,} online predictions",
                kind="predictions",
            )
        )
    me.feeds = [o.key for o in outputs]
    return _layout([files, versions, [me], outputs], f"Lineage of {me.label}")
