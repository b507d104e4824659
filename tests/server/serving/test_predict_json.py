"""The one predict implementation: parse -> load -> predict -> response, and its refusals."""

from __future__ import annotations

import pytest

from lakegate.errors import InputError, ModelError, NotFoundError, PayloadTooLargeError
from lakegate_server.serving.predict import (
    MAX_BODY_BYTES,
    MAX_RECORDS,
    InvalidJsonError,
    ModelUnavailableError,
    predict_json,
    predict_records,
)


def never(name: str):
    raise AssertionError("the champion is not loaded for a request refused before")


def test_refusals_come_before_loading_the_model():
    with pytest.raises(NotFoundError, match="no model named 'a b'"):
        predict_json(name="a b", body=b"{}", load=never)
    with pytest.raises(PayloadTooLargeError):
        predict_json(name="churn", body=b" " * (MAX_BODY_BYTES + 1), load=never)
    with pytest.raises(InvalidJsonError, match="not valid JSON") as bad:
        predict_json(name="churn", body=b"{nope", load=never)
    assert (bad.value.code, bad.value.http_status) == ("invalid_json", 422)
    with pytest.raises(InputError, match="send a JSON object"):
        predict_json(name="churn", body=b"42", load=never)


def test_a_champion_that_fails_to_load_is_503_and_none_is_404():
    def broken(name: str):
        raise ModelError("sha256 mismatch for model.json")

    with pytest.raises(ModelUnavailableError, match="could not be loaded: sha256 mismatch") as failed:
        predict_json(name="churn", body=b"{}", load=broken)
    assert failed.value.http_status == 503
    with pytest.raises(NotFoundError, match="has no champion to serve") as missing:
        predict_json(name="churn", body=b"{}", load=lambda name: None)
    assert missing.value.detail == {"model": "churn"}


def test_record_shapes():
    assert predict_records({"a": 1}) == {"a": 1}
    assert predict_records([{"a": 1}]) == [{"a": 1}]
    assert predict_records({"records": [{"a": 1}]}) == [{"a": 1}]
    with pytest.raises(PayloadTooLargeError):
        predict_records([{}] * (MAX_RECORDS + 1))
