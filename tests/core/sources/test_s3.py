"""S3 source against a moto S3 server started by the test."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lakegate.errors import ConfigError, SourceError
from lakegate.sources import OutboundPolicy, fetch, load_sources

LOOPBACK = OutboundPolicy(allowed_networks=["127.0.0.1/32"], timeout=5)
KEYS = {"access_key_env": "LAKEGATE_TEST_S3_KEY", "secret_key_env": "LAKEGATE_TEST_S3_SECRET"}


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(endpoint, monkeypatch):
    monkeypatch.setenv("LAKEGATE_TEST_S3_KEY", "testing")
    monkeypatch.setenv("LAKEGATE_TEST_S3_SECRET", "testing")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name = f"lg-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    return name, client


def spec(tmp_path: Path, endpoint: str, url: str, **options):
    body = {"kind": "s3", "dataset": "files", "url": url, "endpoint_url": endpoint, "region": "us-east-1"}
    return load_sources({"files": {**body, **KEYS, **options}}, tmp_path)["files"]


def put(client, bucket: str, key: str, body: bytes) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=body)


def test_new_objects_in_key_order_one_batch_each(endpoint, bucket, tmp_path):
    name, client = bucket
    for key, body in [
        ("in/b.csv", b"x\n2\n"),
        ("in/a.csv", b"x\n1\n"),
        ("in/c.json", b"{}"),
        ("other/z.csv", b"x"),
    ]:
        put(client, name, key, body)
    put(client, name, "in/sub/d.csv", b"x\n4\n")
    source = spec(tmp_path, endpoint, f"s3://{name}/in/", pattern="*.csv")
    # read each file before advancing: the previous batch's file is cleaned up
    batches = [(b, b.path.read_bytes()) for b in fetch(source, {}, tmp_path / "work", outbound=LOOPBACK)]
    assert [b.label for b, _ in batches] == [
        f"s3://{name}/in/a.csv",
        f"s3://{name}/in/b.csv",
        f"s3://{name}/in/sub/d.csv",
    ]
    assert [content for _, content in batches] == [b"x\n1\n", b"x\n2\n", b"x\n4\n"]
    assert [b.bytes for b, _ in batches] == [4, 4, 4]
    assert all(b.path.suffix == ".csv" and b.path.parent == tmp_path / "work" for b, _ in batches)
    assert [sorted(b.state["objects"]) for b, _ in batches] == [
        ["in/a.csv"],
        ["in/a.csv", "in/b.csv"],
        ["in/a.csv", "in/b.csv", "in/sub/d.csv"],
    ]
    final = batches[-1][0].state
    assert list(fetch(source, final, tmp_path / "work", outbound=LOOPBACK)) == []

    # resuming from the first batch's state fetches only what was not committed
    resumed = [b.label for b in fetch(source, batches[0][0].state, tmp_path / "r", outbound=LOOPBACK)]
    assert resumed == [f"s3://{name}/in/b.csv", f"s3://{name}/in/sub/d.csv"]


def test_a_changed_etag_counts_as_new(endpoint, bucket, tmp_path):
    name, client = bucket
    put(client, name, "data/a.csv", b"x\n1\n")
    source = spec(tmp_path, endpoint, f"s3://{name}/data")
    [first] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    put(client, name, "data/a.csv", b"x\n1\n2\n")
    put(client, name, "data/b.csv", b"x\n3\n")
    again = [
        (b.label, b.path.read_bytes(), b.state)
        for b in fetch(source, first.state, tmp_path, outbound=LOOPBACK)
    ]
    assert [(label, body) for label, body, _ in again] == [
        (f"s3://{name}/data/a.csv", b"x\n1\n2\n"),
        (f"s3://{name}/data/b.csv", b"x\n3\n"),
    ]
    assert again[-1][2]["objects"]["data/a.csv"] != first.state["objects"]["data/a.csv"]


def test_hostile_keys_never_become_paths(endpoint, bucket, tmp_path):
    name, client = bucket
    put(client, name, "p/../../escape.csv", b"x\n1\n")
    put(client, name, "p/..", b"y")
    work = tmp_path / "work"
    names = [
        b.path.relative_to(work).as_posix()
        for b in fetch(spec(tmp_path, endpoint, f"s3://{name}/p/"), {}, work, outbound=LOOPBACK)
    ]
    assert len(names) == 2
    assert all("/" not in n and ".." not in n for n in names)
    assert not (tmp_path / "escape.csv").exists()


def test_standard_credential_chain(endpoint, bucket, tmp_path, monkeypatch):
    name, client = bucket
    put(client, name, "k/a.txt", b"hello")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    body = {
        "kind": "s3",
        "dataset": "files",
        "url": f"s3://{name}/k/",
        "endpoint_url": endpoint,
        "region": "us-east-1",
    }
    source = load_sources({"files": body}, tmp_path)["files"]
    [batch] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert batch.path.read_bytes() == b"hello"
    assert batch.meta["key"] == "k/a.txt"


def test_default_policy_refuses_a_loopback_endpoint(endpoint, bucket, tmp_path):
    name, _ = bucket
    with pytest.raises(SourceError, match=r"refusing to connect to 127\.0\.0\.1"):
        list(fetch(spec(tmp_path, endpoint, f"s3://{name}/"), {}, tmp_path, outbound=OutboundPolicy()))


def test_missing_bucket_names_the_source(endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEGATE_TEST_S3_KEY", "testing")
    monkeypatch.setenv("LAKEGATE_TEST_S3_SECRET", "testing")
    source = spec(tmp_path, endpoint, f"s3://lg-missing-{uuid.uuid4().hex[:12]}/x/")
    with pytest.raises(SourceError, match=r"source 'files' .*listing objects: NoSuchBucket"):
        list(fetch(source, {}, tmp_path, outbound=LOOPBACK))


def test_missing_credential_env_names_it(endpoint, tmp_path, monkeypatch):
    monkeypatch.delenv("LAKEGATE_TEST_S3_KEY", raising=False)
    monkeypatch.setenv("LAKEGATE_TEST_S3_SECRET", "testing")
    with pytest.raises(ConfigError, match="LAKEGATE_TEST_S3_KEY is not set"):
        list(fetch(spec(tmp_path, endpoint, "s3://bucket/x/"), {}, tmp_path, outbound=LOOPBACK))
