"""A storage per test on each backend: a local folder, and a fresh bucket on a moto S3 server."""

from __future__ import annotations

import pytest

from lakegate.storage import Storage
from tests.core.lake.s3server import moto_s3, new_bucket, storage_options


@pytest.fixture(scope="module")
def endpoint():
    with moto_s3() as url:
        yield url


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path) -> Storage:
    if request.param == "local":
        return Storage(tmp_path / "state")
    endpoint = request.getfixturevalue("endpoint")
    return Storage(f"s3://{new_bucket(endpoint)}/state", storage_options(endpoint))
