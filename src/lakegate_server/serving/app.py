"""``POST /api/v1/models/{name}/predict``: a lean Starlette app in front of Django.

Django + Ninja cost ~2.8 ms per request before any work; this route answers a single
record in tens of microseconds of Python (see ARCHITECTURE.md, "Hot paths"): the token
and the champion come from memory, the body is parsed with orjson, the record goes
through the model's stored steps into one numpy row and the booster with one thread.

Request body: one record (a JSON object), a list of records, or ``{"records": [...]}``.
Response: ``{"model", "version", "predictions": [...], "probabilities": [...]}`` (the
last for classifiers). Errors use the API's one schema, ``{"error": {"code", "message",
"detail"}}``; a field the training schema does not accept is a 422 naming it.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import threading
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
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lakegate.errors import InputError, LakegateError
from lakegate_server.accounts.models import ROLE_RANK, Role
from lakegate_server.conf import project
from lakegate_server.serving.cache import Caller, Champion, ChampionCache, TokenCache
from lakegate_server.serving.payload import MAX_BODY_BYTES, predict_records

__all__ = ["PREDICT_PATH", "STREAM_PATH", "build_app", "mount"]

log = logging.getLogger("lakegate.serving")

PREDICT_PATH: Final = re.compile(r"^/api/v1/models/[^/]+/predict/?$")
STREAM_PATH: Final = re.compile(r"^/api/v1/streams/[^/]+/records/?$")
MODEL_NAME: Final = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")  # pipeline names
# Up to this many records are predicted on the event loop (tens of microseconds each, less
# than a hop to a thread); bigger batches go to a worker thread so the loop stays free.
INLINE_RECORDS: Final = 64

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

_JSON = "application/json"


def error(
    status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps({"error": {"code": code, "message": message, "detail": detail}})
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


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


def _too_large(what: str) -> _RefusedError:
    return _RefusedError(413, "payload_too_large", what)


class _Endpoint:
    """Host check and bearer-token auth from memory, shared by the lean routes."""

    def __init__(self, tokens: TokenCache) -> None:
        self.tokens = tokens
        self._hosts: dict[str, bool] = {}

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
            raise _unauthorized()
        if ROLE_RANK[caller.role] < ROLE_RANK[role]:
            raise _RefusedError(
                403,
                "forbidden",
                f"this needs the {role.value} role; the token {caller.name!r} is {caller.role}",
            )
        return caller


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
            limit = project().streams.max_body_bytes
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise _too_large(f"the body is over streams.max_body_bytes ({limit} bytes)")
            body = await request.body()
            dataset = request.path_params["dataset"]
            accepted = await anyio.to_thread.run_sync(
                lambda: stream_append(
                    dataset=dataset, body=body, content_type=request.headers.get("content-type")
                )
            )
        except _RefusedError as refused:
            return refused.response
        except LakegateError as exc:
            return error(exc.http_status, exc.code, exc.message, exc.detail)
        return Response(orjson.dumps({"dataset": dataset, "accepted": accepted}), 202, media_type=_JSON)


class PredictEndpoint(_Endpoint):
    """The route handler, holding its caches (one per app, shared by all requests)."""

    def __init__(self, tokens: TokenCache, champions: ChampionCache) -> None:
        super().__init__(tokens)
        self.champions = champions

    @staticmethod
    async def _payload(request: Request) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise _too_large(f"request body over {MAX_BODY_BYTES} bytes")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise _too_large(f"request body over {MAX_BODY_BYTES} bytes")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _RefusedError(422, "invalid_json", f"request body is not valid JSON: {exc}") from exc

    async def _champion(self, name: str) -> Champion:
        if not MODEL_NAME.match(name):
            raise _RefusedError(404, "not_found", f"no model named {name!r}", {"model": name})
        try:
            champion = await self.champions.get(name)
        except LakegateError as exc:
            log.error("champion not loaded", extra={"model": name, "error": exc.message})
            raise _RefusedError(
                503, "model_unavailable", f"model {name!r} could not be loaded: {exc.message}"
            ) from exc
        if champion is None:
            raise _RefusedError(404, "not_found", f"model {name!r} has no champion to serve", {"model": name})
        return champion

    async def handle(self, request: Request) -> Response:
        try:
            self._check_host(request.headers.get("host", ""))
            await self._authenticate(request)
            records = predict_records(await self._payload(request))
            name = request.path_params["name"]
            champion = await self._champion(name)
            predictor = champion.predictor
            if isinstance(records, dict) or len(records) <= INLINE_RECORDS:
                result = predictor.predict(records)  # microseconds: cheaper than a thread hop
            else:
                result = await anyio.to_thread.run_sync(predictor.predict, records)
        except _RefusedError as refused:
            return refused.response
        except LakegateError as exc:  # InputError (422) names each bad field in detail
            return error(
                exc.http_status if isinstance(exc, InputError) else 400, exc.code, exc.message, exc.detail
            )
        out: dict[str, Any] = {"model": name, "version": champion.version}
        out.update(result.to_dict())
        return Response(orjson.dumps(out, option=orjson.OPT_SERIALIZE_NUMPY), media_type=_JSON)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    codes = {404: "not_found", 405: "method_not_allowed"}
    detail = exc.detail if isinstance(exc, HTTPException) else "internal server error"
    return error(status, codes.get(status, "error"), str(detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled serving error", extra={"path": request.url.path}, exc_info=exc)
    return error(500, "internal_error", "internal server error; see the web log for details")


def build_app(
    *, tokens: TokenCache | None = None, champions: ChampionCache | None = None, server: bool = False
) -> Starlette:
    """The Starlette app of the online route, with its own token and champion caches.

    ``server`` is for the web server process (``lakegate_server.asgi``): import the model
    libraries in the background right away, and keep the loaded heap out of the garbage
    collector's full passes (see :func:`~lakegate_server.serving.cache.settle_heap`).
    """
    if server:
        threading.Thread(target=_import_model_libraries, name="serving-warm-up", daemon=True).start()
    champions = champions or ChampionCache(settle_heap=server)
    tokens = tokens or TokenCache()
    endpoint = PredictEndpoint(tokens, champions)
    streams = StreamEndpoint(tokens)
    app = Starlette(
        routes=[
            Route("/api/v1/models/{name}/predict", endpoint.handle, methods=["POST"]),
            Route("/api/v1/streams/{dataset}/records", streams.handle, methods=["POST"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
    )
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


def mount(fallback: ASGIApp, serving: ASGIApp | None = None) -> ASGIApp:
    """One ASGI app: the predict and stream routes go to Starlette, every other request to ``fallback``."""
    predict_app = serving or build_app(server=True)

    async def application(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (
            PREDICT_PATH.match(scope["path"]) or STREAM_PATH.match(scope["path"])
        ):
            await predict_app(scope, receive, send)
        else:
            await fallback(scope, receive, send)

    return application
