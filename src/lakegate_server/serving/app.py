"""``POST /api/v1/models/{name}/predict`` and ``POST /api/v1/streams/{dataset}/records``:
a lean Starlette app in front of Django.

Django + Ninja cost ~2.8 ms per request before any work; this route answers a single
record in tens of microseconds of Python (see ARCHITECTURE.md, "Hot paths"): the token
and the champion come from memory, the body is parsed with orjson, the record goes
through the model's stored steps into one numpy row and the booster with one thread.

Request body: one record (a JSON object), a list of records, or ``{"records": [...]}``.
Response: ``{"model", "version", "predictions": [...], "probabilities": [...]}`` (the
last for classifiers), built by :func:`~lakegate_server.serving.predict.predict_json`, the
same function the Ninja route calls. Errors use the API's one schema,
``{"error": {"code", "message", "detail"}}``; a field the training schema does not accept
is a 422 naming it.

Bodies reach these handlers already bounded: :func:`mount` puts
:class:`~lakegate_server.serving.guard.RequestGuard` in front of every route.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

# Before any model library loads: one OpenMP thread per serving process. LightGBM's default
# threads cut throughput ~30x under concurrent requests on a small machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import anyio.to_thread
import orjson
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from lakegate.errors import LakegateError
from lakegate_server.accounts.models import ROLE_RANK, Role
from lakegate_server.accounts.throttle import throttle_fail, throttled, token_keys
from lakegate_server.http_errors import error_headers, error_json, status_code
from lakegate_server.serving.access import (
    PREDICT_ROUTE,
    ROUTE_KEY,
    STREAM_ROUTE,
    TOKEN_KEY,
    AccessLog,
    AccessLogWriter,
)
from lakegate_server.serving.cache import Caller, ChampionCache, TokenCache, db_call
from lakegate_server.serving.guard import PREDICT_PATH, STREAM_PATH, RequestGuard
from lakegate_server.serving.predict import MODEL_NAME, Champion, predict_json
from lakegate_server.serving.record import PredictionRecorder

__all__ = ["PREDICT_PATH", "STREAM_PATH", "build_app", "mount"]

log = logging.getLogger("lakegate.serving")

# Bodies up to this size (a few dozen records) are predicted on the event loop (tens of
# microseconds a record, less than a hop to a thread); bigger ones go to a worker thread so
# the loop stays free.
INLINE_BYTES: Final = 16 * 1024

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

_JSON = "application/json"


def error(
    status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> Response:
    return Response(error_json(code, message, detail), status_code=status, media_type=_JSON, headers=headers)


def _domain_error(exc: LakegateError) -> Response:
    return error(exc.http_status, exc.code, exc.message, exc.detail, error_headers(exc) or None)


class _RefusedError(Exception):
    """A request the route answers with an error body (raised by the steps of ``handle``)."""

    def __init__(
        self, status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.response = error(status, code, message, detail, headers)


def _unauthorized() -> _RefusedError:
    return _RefusedError(
        401,
        "unauthorized",
        "missing or invalid API token; send `Authorization: Bearer <token>` "
        "(create one with `lakegate token create`)",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _body(request: Request) -> bytes:
    """The whole body; the guard in front has bounded its size, the protocol the wait for it."""
    try:
        return await request.body()
    except ClientDisconnect as exc:  # the guard answered (413/408) or the client went away
        raise _RefusedError(400, "bad_request", "the request body was not received") from exc


class _Endpoint:
    """Host check and bearer-token auth from memory, shared by the lean routes."""

    def __init__(self, tokens: TokenCache) -> None:
        self.tokens = tokens
        self._hosts: dict[str, bool] = {}
        self._blocked: dict[str, float] = {}  # client address -> monotonic time its block ends

    def _check_host(self, host: str) -> None:
        """Django's ALLOWED_HOSTS applies here too (DNS rebinding), with the answer memoised."""
        ok = self._hosts.get(host)
        if ok is None:
            domain, _port = split_domain_port(host)
            ok = bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)
            if len(self._hosts) < 1000:
                self._hosts[host] = ok
        if not ok:
            raise _RefusedError(400, "bad_request", "invalid Host header")

    async def _authenticate(self, request: Request, role: Role = Role.VIEWER) -> Caller:
        scheme, _, raw = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise _unauthorized()
        caller = await self.tokens.authenticate(raw.strip())
        if caller is None:
            raise await self._refuse_bad_token(request)
        request.scope[TOKEN_KEY] = caller.name  # for the access log (the name, never the token)
        if ROLE_RANK[caller.role] < ROLE_RANK[role]:
            raise _RefusedError(
                403,
                "forbidden",
                f"this needs the {role.value} role; the token {caller.name!r} is {caller.role}",
            )
        return caller

    async def _refuse_bad_token(self, request: Request) -> _RefusedError:
        """401, or 429 once this address sent too many bad tokens (counted in the database)."""
        address = request.client.host if request.client else "unknown"
        now = time.monotonic()
        until = self._blocked.get(address, 0.0)
        wait: int | None
        if until > now:  # known blocked here: no database write per refused request
            wait = int(until - now) + 1
        else:
            wait = await db_call(throttle_fail, token_keys(address=address))
            if wait is None:
                return _unauthorized()
            if len(self._blocked) > 10_000:
                self._blocked = {a: t for a, t in self._blocked.items() if t > now}
            self._blocked[address] = now + wait
        refusal = throttled(wait, "bad API tokens from this address")
        return _RefusedError(429, refusal.code, refusal.message, refusal.detail, error_headers(refusal))


class StreamEndpoint(_Endpoint):
    """``POST /api/v1/streams/{dataset}/records``: parse and fsync off the event loop, then 202.

    The same service as the Ninja route (which documents it in OpenAPI), without the Django
    request stack: the token comes from memory and concurrent requests' appends share fsyncs.
    """

    async def handle(self, request: Request) -> Response:
        from lakegate_server.streams.wal import stream_append

        try:
            self._check_host(request.headers.get("host", ""))
            await self._authenticate(request, Role.EDITOR)
            body = await _body(request)
            dataset = request.path_params["dataset"]
            accepted = await anyio.to_thread.run_sync(
                lambda: stream_append(
                    dataset=dataset, body=body, content_type=request.headers.get("content-type")
                )
            )
        except _RefusedError as refused:
            return refused.response
        except LakegateError as exc:
            return _domain_error(exc)
        return Response(orjson.dumps({"dataset": dataset, "accepted": accepted}), 202, media_type=_JSON)


class PredictEndpoint(_Endpoint):
    """The route handler, holding its caches (one per app, shared by all requests)."""

    def __init__(
        self, tokens: TokenCache, champions: ChampionCache, recorder: PredictionRecorder | None = None
    ) -> None:
        super().__init__(tokens)
        self.champions = champions
        self.recorder = recorder
        self._record = recorder.offer if recorder is not None else None

    async def _loader(self, name: str) -> Callable[[str], Champion | None]:
        """The champion from the cache (loaded off the event loop), as ``predict_json`` takes it."""
        if not MODEL_NAME.match(name):
            return lambda _name: None  # predict_json answers 404 for such a name first
        try:
            champion = await self.champions.get(name)
        except LakegateError as exc:
            log.error("champion not loaded", extra={"model": name, "error": exc.message})
            failure = exc

            def fail(_name: str) -> Champion | None:
                raise failure

            return fail
        return lambda _name: champion

    async def handle(self, request: Request) -> Response:
        try:
            self._check_host(request.headers.get("host", ""))
            await self._authenticate(request)
            body = await _body(request)
            name = request.path_params["name"]
            load = await self._loader(name)
            record = self._record
            if len(body) <= INLINE_BYTES:  # cheaper than a thread hop
                answer = predict_json(name=name, body=body, load=load, record=record)
            else:
                answer = await anyio.to_thread.run_sync(
                    lambda: predict_json(name=name, body=body, load=load, record=record)
                )
        except _RefusedError as refused:
            return refused.response
        except LakegateError as exc:  # InputError (422) names each bad field in detail
            return _domain_error(exc)
        return Response(orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY), media_type=_JSON)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal server error"
    return error(status, status_code(status), str(detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled serving error", extra={"path": request.url.path}, exc_info=exc)
    return error(500, "internal_error", "internal server error; see the web log for details")


def build_app(
    *,
    tokens: TokenCache | None = None,
    champions: ChampionCache | None = None,
    recorder: PredictionRecorder | None = None,
    server: bool = False,
) -> Starlette:
    """The Starlette app of the online route, with its own token and champion caches.

    ``recorder`` records answered predictions (default: one from ``monitoring:`` in
    lakegate.yaml when ``monitoring.record_predictions`` is on).

    ``server`` is for the web server process (``lakegate_server.asgi``): import the model
    libraries in the background right away, and keep the loaded heap out of the garbage
    collector's full passes (see :func:`~lakegate_server.serving.cache.settle_heap`).
    """
    if server:
        threading.Thread(target=_import_model_libraries, name="serving-warm-up", daemon=True).start()
    champions = champions or ChampionCache(settle_heap=server)
    tokens = tokens or TokenCache()
    if recorder is None:
        from lakegate_server.conf import project

        monitoring = project().monitoring
        recorder = PredictionRecorder(monitoring) if monitoring.record_predictions else None
    endpoint = PredictEndpoint(tokens, champions, recorder)
    streams = StreamEndpoint(tokens)
    # Both spellings of each path are answered here (PREDICT_PATH and STREAM_PATH accept a
    # trailing slash): no redirect that a POST client would have to follow.
    routes = [
        Route(path, handler, methods=["POST"])
        for base, handler in (
            ("/api/v1/models/{name}/predict", endpoint.handle),
            ("/api/v1/streams/{dataset}/records", streams.handle),
        )
        for path in (base, f"{base}/")
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _unexpected})
    app.router.redirect_slashes = False
    app.state.endpoint = endpoint
    return app


def _import_model_libraries() -> None:
    # LightGBM pulls in scikit-learn: seconds of imports that the first predict of a fresh
    # web process would otherwise wait for (and time out on a busy machine).
    try:
        import lightgbm  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency; a broken install shows on first load
        log.warning("lightgbm could not be imported ahead of the first predict")
    gc.freeze()  # the libraries stay: keep them out of the garbage collector's full passes


def mount(
    fallback: ASGIApp, serving: ASGIApp | None = None, *, access_log: Callable[[bytes], None] | None = None
) -> ASGIApp:
    """One ASGI app: the predict and stream routes go to Starlette, every other request to ``fallback``.

    :class:`~lakegate_server.serving.guard.RequestGuard` stands in front of both: request
    bodies are bounded by size while they stream in (slow clients are timed by the HTTP
    protocol, :mod:`lakegate_server.serving.server`). In front of everything,
    :class:`~lakegate_server.serving.access.AccessLog` writes one line per request to
    ``access_log`` (default: ``logs/access.jsonl``, unless ``web.access_log`` is false).
    """
    predict_app = serving or build_app(server=True)

    async def application(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if PREDICT_PATH.match(path):
                scope[ROUTE_KEY] = PREDICT_ROUTE
                await predict_app(scope, receive, send)
                return
            if STREAM_PATH.match(path):
                scope[ROUTE_KEY] = STREAM_ROUTE
                await predict_app(scope, receive, send)
                return
        await fallback(scope, receive, send)

    guarded = RequestGuard(application)
    if access_log is None:
        lg = settings.LAKEGATE
        if not lg.web.access_log:
            return guarded
        access_log = AccessLogWriter(lg.paths.logs / "access.jsonl").write
    return AccessLog(guarded, access_log)
