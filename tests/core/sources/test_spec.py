"""``load_sources``: typed specs per kind, errors naming sources.<name>.<field>; the registry."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from lakegate import sources
from lakegate.errors import ConfigError
from lakegate.sources import RestSource, S3Source, SqlSource, load_sources
from lakegate.sources._stage import local_name, mask_url

REST = {"kind": "rest", "dataset": "orders", "url": "https://api.example.com/v1/orders"}
SQL = {"kind": "sql", "dataset": "orders", "url": "postgresql://u@h/db", "query": "SELECT 1"}
S3 = {"kind": "s3", "dataset": "files", "url": "s3://my-bucket/in/"}


def test_one_of_each_kind(tmp_path):
    specs = load_sources(
        {"api": {**REST, "schedule": "*/15 * * * *", "paginator": "header_link"}, "db": SQL, "files": S3},
        tmp_path,
    )
    assert isinstance(specs["api"], RestSource)
    assert isinstance(specs["db"], SqlSource)
    assert isinstance(specs["files"], S3Source)
    assert [(s.name, s.kind, s.dataset, s.mode) for s in specs.values()] == [
        ("api", "rest", "orders", "append"),
        ("db", "sql", "orders", "append"),
        ("files", "s3", "files", "append"),
    ]
    assert specs["api"].schedule == "*/15 * * * *"
    assert specs["api"].paginator.type == "header_link"
    assert specs["db"].schedule is None
    assert (specs["files"].bucket, specs["files"].prefix) == ("my-bucket", "in/")


def test_empty_section(tmp_path):
    assert load_sources(None, tmp_path) == {}
    assert load_sources({}, tmp_path) == {}


BAD = {
    "dataset_name": ({**REST, "dataset": "Bad Name"}, "sources.x.dataset"),
    "cron": ({**REST, "schedule": "every day"}, "sources.x.schedule: not a valid cron"),
    "mode": ({**REST, "mode": "merge"}, "sources.x.mode"),
    "unknown_kind": ({**REST, "kind": "ftp"}, "sources.x.kind"),
    "missing_kind": ({"dataset": "d"}, "sources.x.kind"),
    "extra_key": ({**REST, "colour": "red"}, "sources.x.colour"),
    "rest_url": ({**REST, "url": "ftp://x"}, "sources.x.url"),
    "paginator": ({**REST, "paginator": "sideways"}, "sources.x.paginator"),
    "auth_env": ({**REST, "auth": {"env": "not valid!"}}, "sources.x.auth.env"),
    "rate": ({**REST, "rate_limit": {"requests_per_second": 0}}, "sources.x.rate_limit.requests_per_second"),
    "sql_two_urls": ({**SQL, "url_env": "DB_URL"}, "sources.x.(source): give exactly one of url or url_env"),
    "sql_no_query": (
        {"kind": "sql", "dataset": "d", "url": "sqlite://"},
        "give exactly one of query or query_file",
    ),
    "sql_query_file": (
        {**SQL, "query": None, "query_file": "nope.sql"},
        "sources.x.query_file: no such file",
    ),
    "s3_url": ({**S3, "url": "https://bucket"}, "sources.x.url"),
    "s3_half_keys": ({**S3, "access_key_env": "K"}, "give both access_key_env and secret_key_env"),
    "not_mapping": ("rest", "sources.x.(source): must be a mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=sorted(BAD))
def test_errors_name_source_and_field(tmp_path, case):
    body, expected = BAD[case]
    with pytest.raises(ConfigError) as info:
        load_sources({"x": body}, tmp_path)
    assert expected in info.value.message
    assert info.value.detail[0]["source"] == "x"


def test_every_problem_is_reported(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_sources({"a": {**REST, "dataset": "!"}, "b": {**SQL, "batch_rows": 0}}, tmp_path)
    assert {p["source"] for p in info.value.detail} == {"a", "b"}


def test_query_file_is_resolved_against_the_project(tmp_path):
    (tmp_path / "q.sql").write_text("SELECT 1")
    spec = load_sources({"db": {**SQL, "query": None, "query_file": "q.sql"}}, tmp_path)["db"]
    assert spec.query_file == tmp_path / "q.sql"


def test_every_builtin_kind_is_registered():
    assert set(sources.SOURCES) == {"rest", "sql", "s3"}
    for target in sources.SOURCES.values():
        module, _, name = target.partition(":")
        assert callable(getattr(importlib.import_module(module), name))


def test_all_is_exactly_the_public_names():
    public = {n for n, v in vars(sources).items() if not n.startswith("_") and n != "annotations"}
    public -= {n for n, v in vars(sources).items() if type(v).__name__ == "module"}
    assert set(sources.__all__) == public


def test_importing_sources_stays_light():
    heavy = "('dlt', 'boto3', 'sqlalchemy', 'polars', 'pyarrow', 'requests')"
    code = f"import sys, lakegate.sources; print(','.join(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    ("key", "expected_suffix"),
    [("a/b/data.csv", ".csv"), ("x.csv.gz", ".csv.gz"), ("../../etc/passwd", ""), ("odd/na me.%$#", "")],
    ids=["csv", "gz", "traversal", "odd"],
)
def test_local_names_are_safe(key, expected_suffix):
    name = local_name(key)
    assert name.endswith(expected_suffix)
    assert len(name) == 24 + len(expected_suffix)
    assert "/" not in name
    assert local_name(key) == name
    assert local_name(key + "x") != name


def test_mask_url_hides_passwords():
    assert mask_url("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_url("https://api.example.com/x") == "https://api.example.com/x"
