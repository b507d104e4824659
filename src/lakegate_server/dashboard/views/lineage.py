"""The lineage panel of the version and model pages: the graph, linked to the pages it names."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from lakegate_server.dashboard.lineage_graph import dataset_graph, model_graph
from lakegate_server.lineage.selectors import dataset_lineage, model_lineage

__all__ = ["lineage_context"]


def _dataset_url(name: str, number: int) -> str:
    return f"{reverse('dashboard:dataset', kwargs={'name': name})}?version={number}"


def _model_url(name: str, number: int) -> str:
    return f"{reverse('dashboard:model', kwargs={'name': name})}?version={number}"


def lineage_context(*, dataset: str | None = None, model: str | None = None, number: int) -> dict[str, Any]:
    """``graph`` (geometry for ``_ledger.html#lineage``), ``lineage`` (the data), ``lineage_api``."""
    if dataset is not None:
        lineage = dataset_lineage(name=dataset, number=number)
        urls = {
            f"model:{m['model']}:{m['version']}": _model_url(m["model"], m["version"])
            for m in lineage["downstream"]["models"]
        }
        graph = dataset_graph(lineage, urls=urls)
        api = f"/api/v1/lineage/dataset/{dataset}/{number}"
    else:
        assert model is not None
        lineage = model_lineage(name=model, number=number)
        urls = {
            f"dataset:{d['dataset']}:{d['version']}": _dataset_url(d["dataset"], d["version"])
            for d in lineage["upstream"]["training_data"]
        }
        graph = model_graph(lineage, urls=urls)
        api = f"/api/v1/lineage/model/{model}/{number}"
    return {"lineage": lineage, "graph": graph, "lineage_api": api}
