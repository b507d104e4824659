"""``/metrics``: Prometheus text format, for a token of the viewer role or above.

Two kinds of series:

- **Counted by the processes** that do the work, with ``prometheus-client`` in multiprocess
  mode: predictions and their latency (web), stream records acknowledged (web) and flushed
  (the scheduler's flush). Every process of one ``lakegate up`` (its web processes, workers
  and scheduler) writes its counters to the directory ``PROMETHEUS_MULTIPROC_DIR``, which
  ``up`` sets to ``.lakegate/metrics/up-<pid>/`` (emptied at start) unless the environment
  sets it; ``/metrics`` sums them. A process started alone (``lakegate worker`` on another
  host) keeps its counters to itself.
- **Read from the catalog at scrape time** (one set of queries per scrape): runs by kind and
  status, run durations, queue depth and the age of the oldest queued run, bytes ingested,
  gate verdicts. These are the whole deployment's, whichever host ran the work: every web
  host reports the same values (aggregate them with ``max``, not ``sum``).

``prometheus_client`` is imported on first use: it reads ``PROMETHEUS_MULTIPROC_DIR`` once,
at import, so ``up`` sets the variable before anything counts.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

__all__ = [
    "MULTIPROC_ENV",
    "metrics_view",
    "multiprocess_dir_prepare",
    "prediction_failed",
    "prediction_served",
    "stream_acknowledged",
    "stream_flushed",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Seconds: runs take from a second (a check) to hours (training); predictions microseconds.
RUN_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0)
PREDICT_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


def multiprocess_dir_prepare(state: Path) -> Path:
    """The directory this ``lakegate up`` and its children count in (set in the environment).

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is used as it is. Otherwise a fresh
    ``<state>/metrics/up-<pid>/``; the folders of ``up`` processes that are gone are removed.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    root = state / "metrics"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("up-*"):
        pid = old.name.removeprefix("up-")
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = root / f"up-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


@cache
def _own() -> SimpleNamespace:
    """This process's counters (created on first use, after the environment is settled)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry(auto_describe=True)
    return SimpleNamespace(
        registry=registry,
        predictions=Counter(
            "lakegate_predictions",
            "Records predicted online, by model.",
            ["model"],
            registry=registry,
        ),
        prediction_seconds=Histogram(
            "lakegate_prediction_seconds",
            "Time to parse and predict one online request (successful ones), by model.",
            ["model"],
            buckets=PREDICT_BUCKETS,
            registry=registry,
        ),
        prediction_errors=Counter(
            "lakegate_prediction_errors",
            "Online predict requests refused after authentication, by error code.",
            ["code"],
            registry=registry,
        ),
        stream_acknowledged=Counter(
            "lakegate_stream_records_acknowledged",
            "Pushed records written to the write-ahead log and acknowledged (202), by dataset.",
            ["dataset"],
            registry=registry,
        ),
        stream_flushed=Counter(
            "lakegate_stream_records_flushed",
            "Pushed records out of the write-ahead log: committed to the lake (or quarantined), by dataset.",
            ["dataset"],
            registry=registry,
        ),
        children={},
    )


def _child(metric: str, label: str) -> Any:
    """``metric.labels(label)``, kept: a dict lookup on the hot path instead of a lock."""
    own = _own()
    key = (metric, label)
    child = own.children.get(key)
    if child is None:
        child = own.children[key] = getattr(own, metric).labels(label)
    return child


def prediction_served(model: str, records: int, seconds: float) -> None:
    _child("predictions", model).inc(records)
    _child("prediction_seconds", model).observe(seconds)


def prediction_failed(code: str) -> None:
    _child("prediction_errors", code).inc()


def stream_acknowledged(dataset: str, records: int) -> None:
    _child("stream_acknowledged", dataset).inc(records)


def stream_flushed(dataset: str, records: int) -> None:
    _child("stream_flushed", dataset).inc(records)


# -- scrape --------------------------------------------------------------------------------------


class _Catalog:
    """Series read from the database at scrape time (the whole deployment's)."""

    def collect(self) -> Iterator[Any]:
        from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
        from django.utils import timezone
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        from lakegate_server.datasets.models import DatasetVersion
        from lakegate_server.jobs.models import FINISHED, Run, RunStatus
        from lakegate_server.quality.models import CheckReport

        runs = GaugeMetricFamily(
            "lakegate_runs", "Runs in the catalog, by kind and status.", labels=["kind", "status"]
        )
        for row in Run.objects.order_by().values("kind", "status").annotate(n=Count("id")):
            runs.add_metric([row["kind"], row["status"]], row["n"])
        yield runs

        # Durations of finished runs (started -> finished), one cumulative histogram per kind.
        duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        finished = Run.objects.order_by().filter(
            status__in=list(FINISHED), started_at__isnull=False, finished_at__isnull=False
        )
        aggregates: dict[str, Any] = {
            f"le_{i}": Count("id", filter=Q(took__lte=timedelta(seconds=bound)))
            for i, bound in enumerate(RUN_BUCKETS)
        }
        histogram = HistogramMetricFamily(
            "lakegate_run_duration_seconds",
            "Time from start to finish of finished runs, by kind.",
            labels=["kind"],
        )
        rows = (
            finished.annotate(took=duration)
            .values("kind")
            .annotate(n=Count("id"), total=Sum("took"), **aggregates)
        )
        for by_kind in rows:
            counts = cast("dict[str, Any]", by_kind)  # le_<i> keys are built at run time
            buckets = [(_le(bound), counts[f"le_{i}"]) for i, bound in enumerate(RUN_BUCKETS)]
            buckets.append(("+Inf", counts["n"]))
            total = counts["total"]
            histogram.add_metric([counts["kind"]], buckets, total.total_seconds() if total else 0.0)
        yield histogram

        queued = Run.objects.order_by().filter(status=RunStatus.QUEUED)
        state = queued.aggregate(n=Count("id"), oldest=Min("queued_at"))
        yield GaugeMetricFamily("lakegate_queue_depth", "Runs queued and not yet started.", value=state["n"])
        oldest = state["oldest"]
        age = max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
        yield GaugeMetricFamily(
            "lakegate_queue_oldest_age_seconds",
            "How long the oldest queued run has waited (0 when none waits; a retry waits from its due time).",
            value=age,
        )

        totals = DatasetVersion.objects.order_by().aggregate(
            i=Sum("bytes_in"), o=Sum("bytes_out"), n=Count("id")
        )
        yield CounterMetricFamily(
            "lakegate_ingested_bytes_in",
            "Bytes of the files ingested (all versions).",
            value=totals["i"] or 0,
        )
        yield CounterMetricFamily(
            "lakegate_ingested_bytes_out", "Bytes written to the lake for them.", value=totals["o"] or 0
        )
        yield CounterMetricFamily(
            "lakegate_dataset_versions", "Dataset versions committed.", value=totals["n"]
        )

        verdicts = CounterMetricFamily(
            "lakegate_gate_verdicts",
            "Quality gate reports, by verdict (pass, warn, fail).",
            labels=["verdict"],
        )
        for by_status in CheckReport.objects.order_by().values("status").annotate(n=Count("id")):
            verdicts.add_metric([by_status["status"]], by_status["n"])
        yield verdicts


def _le(bound: float) -> str:
    from prometheus_client.utils import floatToGoString

    return str(floatToGoString(bound))


class _StreamLag:
    """Acknowledged minus flushed records, per dataset, over the processes counting together."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        counts: dict[str, dict[str, float]] = {}
        for family in self.source.collect():
            if family.name in ("lakegate_stream_records_acknowledged", "lakegate_stream_records_flushed"):
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        per = counts.setdefault(sample.labels["dataset"], {})
                        per[family.name] = per.get(family.name, 0.0) + sample.value
        lag = GaugeMetricFamily(
            "lakegate_stream_lag_records",
            "Records acknowledged but not yet flushed to the lake, by dataset (this host's processes).",
            labels=["dataset"],
        )
        for dataset, per in sorted(counts.items()):
            acked = per.get("lakegate_stream_records_acknowledged", 0.0)
            flushed = per.get("lakegate_stream_records_flushed", 0.0)
            lag.add_metric([dataset], max(acked - flushed, 0.0))
        yield lag


def metrics_text() -> tuple[bytes, str]:
    """The scrape: every process's counters (or this process's alone) plus the catalog's series."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    folder = os.environ.get(MULTIPROC_ENV)
    if folder and Path(folder).is_dir():
        from prometheus_client.multiprocess import MultiProcessCollector

        counted: Any = MultiProcessCollector(None, path=folder)
    else:
        counted = _own().registry
    registry.register(counted)
    registry.register(_StreamLag(counted))
    registry.register(_Catalog())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _unauthorized() -> HttpResponse:
    from lakegate_server.http_errors import error_json

    body = error_json(
        "unauthorized",
        "missing or invalid API token; send `Authorization: Bearer <token>` (any role can read metrics)",
        None,
    )
    response = HttpResponse(body, status=401, content_type="application/json")
    response["WWW-Authenticate"] = "Bearer"
    return response


@csrf_exempt  # bearer tokens, no cookies: a POST is answered 405, not 403
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: needs ``Authorization: Bearer <token>`` of any role (viewer and up)."""
    from lakegate_server.accounts.selectors import token_authenticate
    from lakegate_server.accounts.throttle import throttle_fail, throttled, token_keys
    from lakegate_server.http_errors import error_headers, error_json

    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(
            error_json("method_not_allowed", "use GET /metrics", None),
            status=405,
            content_type="application/json",
        )
        response["Allow"] = "GET, HEAD"
        return response
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        return _unauthorized()
    token = token_authenticate(raw=raw)
    if token is None:
        wait = throttle_fail(token_keys(address=request.META.get("REMOTE_ADDR")))
        if wait is None:
            return _unauthorized()
        refusal = throttled(wait, "bad API tokens from this address")
        response = HttpResponse(
            error_json(refusal.code, refusal.message, refusal.detail),
            status=429,
            content_type="application/json",
        )
        for name, value in error_headers(refusal).items():
            response[name] = value
        return response
    request.auth = token  # type: ignore[attr-defined]  # the access log names the token
    body, content_type = metrics_text()
    return HttpResponse(body, content_type=content_type)
