"""A moto S3 server in a child process, for lake tables on S3.

Not ``ThreadedMotoServer`` in the test process: delta-rs keeps the GIL while it waits on
S3 (``DeltaTable.is_deltatable`` hung forever against a server thread of the same process),
so the server runs moto's ``ThreadedMotoServer`` in its own interpreter and reports its port.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

KEY = SECRET = "testing"
REGION = "us-east-1"

_CHILD = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the parent closes stdin (or dies)
server.stop()
"""


@contextmanager
def moto_s3() -> Iterator[str]:
    """Start moto's S3 server in a child process; yield its endpoint URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )


def new_bucket(endpoint: str) -> str:
    """A fresh, uniquely named bucket (tests never share one)."""
    name = f"lg-lake-{uuid.uuid4().hex[:16]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def keys(endpoint: str, bucket: str, prefix: str = "") -> list[str]:
    """Every object key under ``prefix`` in ``bucket``."""
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def storage_options(endpoint: str, *, credentials: bool = True) -> dict[str, str]:
    """object_store options for the moto endpoint (credentials too, unless they come from env)."""
    options = {"aws_endpoint_url": endpoint, "aws_region": REGION, "aws_allow_http": "true"}
    if credentials:
        options |= {"aws_access_key_id": KEY, "aws_secret_access_key": SECRET}
    return options
