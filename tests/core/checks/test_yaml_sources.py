"""Contracts and check lists read from YAML text or files: errors name the file and what it held."""

from __future__ import annotations

import pytest

from lakegate.checks import load_checks, load_contract
from lakegate.checks._contract_model import parse_yaml_source
from lakegate.errors import ConfigError


@pytest.mark.parametrize(("load", "what"), [(load_contract, "contract"), (load_checks, "checks")])
def test_a_missing_file_says_what_could_not_be_read(tmp_path, load, what):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError, match=rf"^{missing}: cannot read {what}: No such file"):
        load(missing)
    with pytest.raises(ConfigError, match=rf"^shop\.yaml: cannot read {what}: "):
        load(missing, filename="shop.yaml")


@pytest.mark.parametrize(
    ("load", "text", "where"),
    [
        (load_contract, "- a list\n", "<contract>:1: a contract is a mapping"),
        (load_checks, "kind: schema\n", "<checks>:1: checks are a list"),
        (load_contract, "columns: [a\n", "<contract>:2: invalid YAML"),
        (load_checks, "- kind: [schema\n", "<checks>:2: invalid YAML"),
    ],
)
def test_text_without_a_filename_is_named_after_what_it_holds(load, text, where):
    with pytest.raises(ConfigError) as caught:
        load(text)
    assert str(caught.value).startswith(where), str(caught.value)


def test_a_checks_file_is_read_and_named_by_its_path(tmp_path):
    path = tmp_path / "checks.yaml"
    path.write_text("checks:\n  - kind: schema\n  - kind: anomalies\n    top_k: 3\n")
    assert [c.kind for c in load_checks(path)] == ["schema", "anomalies"]
    path.write_text("checks:\n  - kind: anomalies\n    top_k: many\n")
    with pytest.raises(ConfigError, match=rf"^{path}:3: \[0\]\.top_k"):
        load_checks(path)


def test_parse_yaml_source_returns_the_name_it_used(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("columns: {}\n")
    assert parse_yaml_source(path, filename=None, what="contract")[::2] == ({"columns": {}}, str(path))
    assert parse_yaml_source(path, filename="x.yaml", what="contract")[2] == "x.yaml"
    data, node, name = parse_yaml_source("", filename=None, what="checks")
    assert (data, node, name) == (None, None, "<checks>")
