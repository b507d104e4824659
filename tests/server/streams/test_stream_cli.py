"""`lakegate stream consume|flush|compact` against the local Redis."""

from __future__ import annotations

import json
import uuid

import orjson
import pytest
import redis
from typer.testing import CliRunner

from lakegate_server.cli import app
from lakegate_server.datasets.models import DatasetVersion

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()
REDIS = "redis://127.0.0.1:6379/14"


@pytest.fixture
def stream_key():
    key = f"lg-test-{uuid.uuid4().hex[:10]}"
    yield key
    redis.Redis.from_url(REDIS).delete(key)


def test_consume_redis_then_flush_and_compact(stream_key):
    client = redis.Redis.from_url(REDIS)
    for n in range(30):
        records = [{"id": n * 10 + i, "sensor": f"s{i}", "value": i / 2} for i in range(10)]
        client.xadd(stream_key, {"data": orjson.dumps(records)})
    client.xadd(stream_key, {"data": b"not json"})

    consumed = runner.invoke(
        app,
        ["stream", "consume", REDIS, "--stream", stream_key, "--dataset", "sensors", "--max-messages", "31"],
    )
    assert consumed.exit_code == 0, consumed.output
    assert "31 messages, 300 records, 1 rejected" in consumed.stdout
    assert client.xpending(stream_key, "lakegate")["pending"] == 0  # all acked, after the write

    flushed = runner.invoke(app, ["stream", "flush", "--json"])
    assert flushed.exit_code == 0, flushed.output
    items = json.loads(flushed.stdout)["flushed"]
    assert [(i["dataset"], i["records"]) for i in items] == [("sensors", 300)]
    version = DatasetVersion.objects.get(dataset__name="sensors")
    assert version.rows == 300

    compact = runner.invoke(app, ["stream", "compact", "sensors"])
    assert compact.exit_code == 0, compact.output
    assert "nothing to compact" in compact.stdout  # one file: nothing to merge

    bad = runner.invoke(app, ["stream", "consume", "kafka://x", "--stream", "k", "--dataset", "sensors"])
    assert bad.exit_code == 1
    assert "redis:// or mqtt://" in bad.output
