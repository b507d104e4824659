"""The floor for ``benchmarks/serving.py``: a bare Starlette endpoint calling ``predict``.

Same model, same ``Predictor.predict`` (validation + feature steps + booster), same JSON
library and server options as lakegate's online route, but no routing in front of Django,
no token check, no registry, no champion cache: what any serving wrapper must pay.

    MODEL_DIR=... MODEL_SHA256=... uvicorn _serving_floor:app --app-dir benchmarks
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lakegate.models import load_model

predictor = load_model(Path(os.environ["MODEL_DIR"]), os.environ["MODEL_SHA256"])


async def predict(request: Request) -> Response:
    result = predictor.predict(orjson.loads(await request.body()))
    return Response(
        orjson.dumps(result.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json"
    )


app = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
