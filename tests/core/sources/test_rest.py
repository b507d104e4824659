"""REST source against a real local HTTP server: paginators, retries, safety, incremental, auth."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from lakegate.errors import ConfigError, SourceError, TransientSourceError
from lakegate.sources import OutboundPolicy, fetch, load_sources
from tests.core.sources.conftest import LOOPBACK, record


def spec(tmp_path: Path, url: str, **options):
    return load_sources({"api": {"kind": "rest", "dataset": "api", "url": url, **options}}, tmp_path)["api"]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


PAGINATED = {
    "page_number": ("/page_number", {"type": "page_number", "base_page": 1}, "items"),
    "offset": ("/offset", {"type": "offset", "limit": 10, "total_path": "total"}, "items"),
    "cursor": (
        "/cursor",
        {"type": "cursor", "cursor_path": "cursors.next", "cursor_param": "cursor"},
        "items",
    ),
    "header_link": ("/header_link", "header_link", None),
    "json_link": ("/json_link", {"type": "json_link", "next_url_path": "next"}, "data"),
    "auto_header_link": ("/header_link", "auto", None),
}


@pytest.mark.parametrize("case", sorted(PAGINATED), ids=sorted(PAGINATED))
def test_every_paginator_fetches_all_pages(api, tmp_path, case):
    path, paginator, selector = PAGINATED[case]
    options = {"paginator": paginator} | ({"data_selector": selector} if selector else {})
    [batch] = list(fetch(spec(tmp_path, api.url + path, **options), {}, tmp_path / "work", outbound=LOOPBACK))
    rows = lines(batch.path)
    assert [r["id"] for r in rows] == list(range(1, 26))
    assert rows[0] == record(1)
    assert batch.rows == 25
    assert batch.bytes == batch.path.stat().st_size
    assert batch.path.suffix == ".jsonl"
    assert len(api.requests_to(path)) >= 3  # really paginated
    assert batch.state == {}


def test_single_page_and_keys_sorted(api, tmp_path):
    [batch] = list(
        fetch(spec(tmp_path, api.url + "/single", paginator="none"), {}, tmp_path, outbound=LOOPBACK)
    )
    first = batch.path.read_text().splitlines()[0]
    assert first == json.dumps(record(1), sort_keys=True, separators=(",", ":"))
    assert batch.rows == 25


def test_staged_file_is_byte_deterministic(api, tmp_path):
    source = spec(
        tmp_path, api.url + "/page_number", paginator={"type": "page_number"}, data_selector="items"
    )
    [one] = list(fetch(source, {}, tmp_path / "a", outbound=LOOPBACK))
    [two] = list(fetch(source, {}, tmp_path / "b", outbound=LOOPBACK))
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.meta["sha256"] == two.meta["sha256"]
    assert one.path.name == two.path.name


def test_max_pages_stops_early(api, tmp_path):
    source = spec(tmp_path, api.url + "/json_link", paginator="json_link", data_selector="data", max_pages=2)
    [batch] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert batch.rows == 20
    assert len(api.requests_to("/json_link")) == 2


def test_429_is_retried_honouring_retry_after(api, tmp_path):
    key = uuid.uuid4().hex
    source = spec(
        tmp_path, f"{api.url}/flaky?key={key}&fail=2", paginator="none", retries={"backoff_factor": 0}
    )
    [batch] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert batch.rows == 3
    assert api.hits[key] == 3


def test_persistent_5xx_is_transient_after_the_retries(api, tmp_path):
    key = uuid.uuid4().hex
    source = spec(
        tmp_path,
        f"{api.url}/flaky?key={key}&fail=99&status=503",
        paginator="none",
        retries={"max_attempts": 2, "backoff_factor": 0},
    )
    with pytest.raises(TransientSourceError, match=r"source 'api'.*HTTP 503") as info:
        list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert info.value.detail["status"] == 503
    assert api.hits[key] == 2


def test_4xx_is_a_plain_source_error(api, tmp_path):
    source = spec(tmp_path, f"{api.url}/status?code=404", paginator="none", retries={"max_attempts": 1})
    with pytest.raises(SourceError, match="HTTP 404") as info:
        list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert not isinstance(info.value, TransientSourceError)


def test_not_json_names_the_source(api, tmp_path):
    with pytest.raises(SourceError, match=r"source 'api'.*not the JSON expected"):
        list(fetch(spec(tmp_path, api.url + "/notjson", paginator="none"), {}, tmp_path, outbound=LOOPBACK))


def test_unreachable_server_is_transient(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = spec(tmp_path, f"http://127.0.0.1:{port}/x", paginator="none", retries={"max_attempts": 1})
    with pytest.raises(TransientSourceError, match="source 'api'"):
        list(fetch(source, {}, tmp_path, outbound=LOOPBACK))


def test_default_policy_refuses_loopback(api, tmp_path):
    with pytest.raises(SourceError, match=r"refusing to connect to 127\.0\.0\.1: .*loopback"):
        list(fetch(spec(tmp_path, api.url + "/single"), {}, tmp_path, outbound=OutboundPolicy()))
    assert api.seen == []  # refused before connecting


def test_metadata_address_is_refused_even_with_allow_private(tmp_path):
    policy = OutboundPolicy(allow_private=True)
    with pytest.raises(SourceError, match="metadata"):
        list(fetch(spec(tmp_path, "http://169.254.169.254/latest"), {}, tmp_path, outbound=policy))


def test_each_redirect_hop_is_checked_again(api, tmp_path):
    only_first = OutboundPolicy(allowed_networks=["127.0.0.1/32"], timeout=5)
    target = f"http://127.0.0.2:{api.port}/single"
    source = spec(tmp_path, f"{api.url}/redirect?to={target}", paginator="none")
    with pytest.raises(SourceError, match=r"refusing to connect to 127\.0\.0\.2"):
        list(fetch(source, {}, tmp_path, outbound=only_first))
    assert len(api.requests_to("/redirect")) == 1
    assert api.requests_to("/single") == []


def test_allowed_redirect_is_followed(api, tmp_path):
    source = spec(tmp_path, f"{api.url}/redirect?to=/single", paginator="none")
    [batch] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert batch.rows == 25


def test_too_many_redirects(api, tmp_path):
    policy = OutboundPolicy(allowed_networks=["127.0.0.0/8"], max_redirects=0, timeout=5)
    source = spec(tmp_path, f"{api.url}/redirect?to=/single", paginator="none")
    with pytest.raises(SourceError, match="too many redirects"):
        list(fetch(source, {}, tmp_path, outbound=policy))


def test_host_name_is_kept_while_connecting_to_the_pinned_address(api, tmp_path):
    source = spec(tmp_path, f"http://localhost:{api.port}/single", paginator="none")
    [batch] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert batch.rows == 25
    [(_, headers)] = api.requests_to("/single")
    assert headers["Host"] == f"localhost:{api.port}"


def incremental_spec(api, tmp_path: Path, **incremental):
    """The ``/incremental`` endpoint (``updated_since`` is inclusive) with ``updated_at`` as cursor."""
    cursor = {"cursor_field": "updated_at", "param": "updated_since", **incremental}
    return spec(
        tmp_path, api.url + "/incremental", paginator="none", data_selector="items", incremental=cursor
    )


def test_incremental_sends_the_cursor_and_skips_what_was_seen(api, tmp_path):
    source = incremental_spec(api, tmp_path, initial="2024-01-20T00:00:00Z")
    [first] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert [r["id"] for r in lines(first.path)] == [21, 22, 23, 24, 25]  # the initial value is excluded
    assert first.state["cursor"] == "2024-01-25T00:00:00Z"
    assert len(first.state["boundary"]) == 1  # the key of record 25, the one at the cursor
    assert api.requests_to("/incremental")[0][0]["updated_since"] == "2024-01-20T00:00:00Z"

    assert list(fetch(source, first.state, tmp_path, outbound=LOOPBACK)) == []  # only the boundary came back
    assert api.requests_to("/incremental")[1][0]["updated_since"] == "2024-01-25T00:00:00Z"

    api.records.append(record(26))
    [third] = list(fetch(source, first.state, tmp_path, outbound=LOOPBACK))
    assert [r["id"] for r in lines(third.path)] == [26]
    assert third.state["cursor"] == "2024-01-26T00:00:00Z"


def test_incremental_keeps_a_late_record_that_shares_the_cursor(api, tmp_path):
    """Two records updated in the same second: the one that arrives after a run is not lost."""
    source = incremental_spec(api, tmp_path)
    [first] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert first.rows == 25

    late = record(25) | {"id": 99, "name": "same second as 25"}
    api.records.append(late)
    [second] = list(fetch(source, first.state, tmp_path, outbound=LOOPBACK))
    assert lines(second.path) == [late]  # record 25 is not fetched again, its twin is kept
    assert second.state["cursor"] == "2024-01-25T00:00:00Z"
    assert len(second.state["boundary"]) == 2

    assert list(fetch(source, second.state, tmp_path, outbound=LOOPBACK)) == []

    changed = record(25) | {"name": "edited in the same second"}
    api.records.append(changed)
    [third] = list(fetch(source, second.state, tmp_path, outbound=LOOPBACK))
    assert lines(third.path) == [changed]  # a new version of a record at the cursor is new data


def test_incremental_keeps_a_new_record_identical_to_one_fetched_before(api, tmp_path):
    """Records without an id: a second identical event in the same second is data, not a repeat."""
    source = incremental_spec(api, tmp_path)
    [first] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    twin = dict(api.records[-1])
    api.records.append(twin)
    [second] = list(fetch(source, first.state, tmp_path, outbound=LOOPBACK))
    assert lines(second.path) == [twin]  # one of the two identical records is new
    assert len(second.state["boundary"]) == 2
    assert len(set(second.state["boundary"])) == 1
    assert list(fetch(source, second.state, tmp_path, outbound=LOOPBACK)) == []


def test_incremental_state_from_before_boundary_keys_stays_exclusive(api, tmp_path):
    """A cursor stored without keys (older state) keeps its meaning: nothing at it is re-fetched."""
    source = incremental_spec(api, tmp_path)
    [batch] = list(fetch(source, {"cursor": "2024-01-24T00:00:00Z"}, tmp_path, outbound=LOOPBACK))
    assert [r["id"] for r in lines(batch.path)] == [25]
    assert batch.state["cursor"] == "2024-01-25T00:00:00Z"
    assert "boundary" in batch.state


def test_auth_header_comes_from_the_environment(api, tmp_path, monkeypatch):
    env = f"LAKEGATE_TEST_TOKEN_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setenv(env, "s3cr3t-value")
    messages: list[str] = []
    source = spec(
        tmp_path,
        api.url + "/single",
        paginator="none",
        auth={"header": "Authorization", "env": env, "prefix": "Bearer "},
    )
    [batch] = list(
        fetch(source, {}, tmp_path, outbound=LOOPBACK, log=lambda m, **f: messages.append(f"{m} {f}"))
    )
    [(_, headers)] = api.requests_to("/single")
    assert headers["Authorization"] == "Bearer s3cr3t-value"
    assert messages
    assert "s3cr3t" not in repr(batch) + " ".join(messages) + repr(source)


def test_secret_header_is_not_sent_to_another_origin(api, tmp_path, monkeypatch):
    env = f"LAKEGATE_TEST_KEY_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setenv(env, "k3y")
    source = spec(
        tmp_path,
        f"{api.url}/json_link?nexthost=localhost:{api.port}",
        paginator="json_link",
        data_selector="data",
        auth={"header": "X-Api-Key", "env": env},
    )
    [batch] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert batch.rows == 25
    keys = [headers.get("X-Api-Key") for _, headers in api.requests_to("/json_link")]
    assert keys == ["k3y", None, None]


def test_missing_auth_env_names_it(api, tmp_path):
    source = spec(tmp_path, api.url + "/single", auth={"env": "LAKEGATE_TEST_SURELY_UNSET_TOKEN"})
    with pytest.raises(ConfigError, match=r"source 'api'.*LAKEGATE_TEST_SURELY_UNSET_TOKEN is not set"):
        list(fetch(source, {}, tmp_path, outbound=LOOPBACK))


def test_rate_limit_spaces_requests(api, tmp_path):
    source = spec(
        tmp_path,
        api.url + "/json_link",
        paginator="json_link",
        data_selector="data",
        rate_limit={"requests_per_second": 10},
    )
    started = time.monotonic()
    [batch] = list(fetch(source, {}, tmp_path, outbound=LOOPBACK))
    assert batch.rows == 25
    assert time.monotonic() - started >= 0.18  # 3 requests at 10/s: at least two 0.1 s gaps


def test_empty_response_yields_nothing(api, tmp_path):
    api.records.clear()
    assert (
        list(fetch(spec(tmp_path, api.url + "/single", paginator="none"), {}, tmp_path, outbound=LOOPBACK))
        == []
    )
