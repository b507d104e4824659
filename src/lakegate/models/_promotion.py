"""Promotion rules: a tiny, safe expression language over metrics.

    f1 >= champion.f1 + 0.01 and robustness.f1_drop <= 0.05

Rules are parsed with :mod:`ast` and only these nodes are accepted: comparisons
(``< <= > >= == !=``, chained), ``and`` / ``or`` / ``not``, ``+ - * /``, unary minus,
numbers, ``true``/``false`` and names with attribute access (``champion.robustness.f1_drop``)
that resolve in a mapping. No calls, subscripts, strings, lambdas, or names/attributes that
start with ``_``: nothing is ever passed to ``eval``.

Names: the candidate's metrics at the top level (``f1``, also ``candidate.f1``), its
robustness summary under ``robustness``, and the current champion's under ``champion``.
The ``floor`` is an absolute rule (``f1 >= 0.6``) that every promotion must pass; the
first model of a pipeline (no champion) is judged by the floor alone.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, field_validator

from lakegate.errors import ConfigError

__all__ = ["Decision", "PromotionSpec", "Rule", "decide_promotion", "parse_rule"]

_MAX_LENGTH: Final = 1000
_MAX_NODES: Final = 200
_COMPARE: Final[dict[type[ast.cmpop], Callable[[Any, Any], bool]]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_SYMBOL: Final[dict[type[ast.cmpop], str]] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_ARITHMETIC: Final[dict[type[ast.operator], Callable[[float, float], float]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_ALLOWED: Final = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Compare,
    ast.Name,
    ast.Attribute,
    ast.Load,
    ast.Constant,
    *_COMPARE,
    *_ARITHMETIC,
)


@dataclass(frozen=True)
class Rule:
    """A parsed rule: its text, checked syntax tree and the dotted names it reads."""

    source: str
    tree: ast.Expression
    names: frozenset[str]

    @property
    def uses_champion(self) -> bool:
        return any(name == "champion" or name.startswith("champion.") for name in self.names)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _collect_names(node: ast.AST, names: set[str]) -> None:
    dotted = _dotted(node)
    if dotted is not None:
        names.add(dotted)  # "champion.f1", not also "champion"
        return
    for child in ast.iter_child_nodes(node):
        _collect_names(child, names)


def parse_rule(text: str) -> Rule:
    """Parse and check a rule; ``ConfigError`` says what is not allowed."""
    source = text.strip()
    if not source:
        raise ConfigError("promotion rule is empty")
    if len(source) > _MAX_LENGTH:
        raise ConfigError(f"promotion rule is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"promotion rule {source!r}: invalid syntax at column {exc.offset}") from exc
    nodes = list(ast.walk(tree))
    if len(nodes) > _MAX_NODES:
        raise ConfigError(f"promotion rule {source!r} is too complex")
    for node in nodes:
        if not isinstance(node, _ALLOWED):
            raise ConfigError(
                f"promotion rule {source!r}: {type(node).__name__.lower()} is not allowed "
                "(only comparisons, and/or/not, + - * /, numbers and metric names)"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ConfigError(f"promotion rule {source!r}: only numbers are allowed, not {node.value!r}")
        if isinstance(node, ast.Name | ast.Attribute):
            part = node.id if isinstance(node, ast.Name) else node.attr
            if part.startswith("_"):
                raise ConfigError(f"promotion rule {source!r}: names starting with '_' are not allowed")
            if isinstance(node, ast.Attribute) and _dotted(node) is None:
                raise ConfigError(f"promotion rule {source!r}: attributes only on names")
    names: set[str] = set()
    _collect_names(tree, names)
    return Rule(source=source, tree=tree, names=frozenset(names))


class PromotionSpec(BaseModel):
    """``promotion:`` in a pipeline: a relative ``rule`` and an absolute ``floor``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str | None = None
    floor: str | None = None

    @field_validator("rule", "floor")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_rule(value)
            except ConfigError as exc:
                raise ValueError(exc.message) from exc
        return value


@dataclass(frozen=True)
class Decision:
    """The outcome: promote or not, a sentence saying why, and every value compared."""

    promote: bool
    reason: str
    compared: dict[str, float | None] = field(default_factory=dict)


class _Evaluator:
    def __init__(self, rule: Rule, scope: Mapping[str, Any]) -> None:
        self.rule = rule
        self.scope = scope
        self.compared: dict[str, float | None] = {}
        self.trace: list[str] = []

    def resolve(self, dotted: str) -> float | None:
        value: Any = self.scope
        for part in dotted.split("."):
            if not isinstance(value, Mapping) or part not in value:
                raise ConfigError(f"promotion rule {self.rule.source!r}: unknown name {dotted!r}")
            value = value[part]
        if value is None or isinstance(value, bool | int | float):
            number = (
                None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
            )
            self.compared[dotted] = number
            return number
        raise ConfigError(f"promotion rule {self.rule.source!r}: {dotted!r} is not a number")

    def value(self, node: ast.AST) -> Any:  # noqa: PLR0911 - one branch per node type
        if isinstance(node, ast.Expression):
            return self.value(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name | ast.Attribute):
            dotted = _dotted(node)
            assert dotted is not None
            return self.resolve(dotted)
        if isinstance(node, ast.UnaryOp):
            operand = self.value(node.operand)
            if isinstance(node.op, ast.Not):
                return not operand
            return None if operand is None else (-operand if isinstance(node.op, ast.USub) else +operand)
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            if left is None or right is None:
                return None
            try:
                return _ARITHMETIC[type(node.op)](left, right)
            except ZeroDivisionError:
                return None
        if isinstance(node, ast.BoolOp):
            results = [bool(self.value(v)) for v in node.values]  # all evaluated: a full trace
            return all(results) if isinstance(node.op, ast.And) else any(results)
        assert isinstance(node, ast.Compare)
        return self.compare(node)

    def compare(self, node: ast.Compare) -> bool:
        operands = [self.value(node.left), *(self.value(c) for c in node.comparators)]
        result = True
        shown = [_show(self.rule.source, node.left, operands[0])]
        for index, op in enumerate(node.ops):
            left, right = operands[index], operands[index + 1]
            ok = left is not None and right is not None and _COMPARE[type(op)](left, right)
            result = result and ok
            shown += [_SYMBOL[type(op)], _show(self.rule.source, node.comparators[index], right)]
        self.trace.append(f"{' '.join(shown)}: {'yes' if result else 'no'}")
        return result


def _show(source: str, node: ast.AST, value: Any) -> str:
    text = ast.get_source_segment(source, node) or ""
    rendered = "undefined" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if isinstance(node, ast.Constant) else f"{text} ({rendered})"


def _evaluate(text: str, scope: Mapping[str, Any]) -> tuple[bool, str, dict[str, float | None]]:
    rule = parse_rule(text)
    evaluator = _Evaluator(rule, scope)
    outcome = bool(evaluator.value(rule.tree))
    return outcome, "; ".join(evaluator.trace) or rule.source, evaluator.compared


def decide_promotion(
    rule: PromotionSpec | str | None,
    candidate_metrics: Mapping[str, Any],
    champion_metrics: Mapping[str, Any] | None,
) -> Decision:
    """Decide whether the candidate replaces the champion.

    ``candidate_metrics``/``champion_metrics`` map metric names to numbers, with the
    robustness summary under ``robustness`` (see ``ModelManifest.promotion_metrics``).
    """
    spec = PromotionSpec(rule=rule) if isinstance(rule, str) or rule is None else rule
    scope: dict[str, Any] = {**candidate_metrics, "candidate": dict(candidate_metrics)}
    if champion_metrics is not None:
        scope["champion"] = dict(champion_metrics)
    compared: dict[str, float | None] = {}
    reasons: list[str] = []
    if spec.floor:
        ok, trace, seen = _evaluate(spec.floor, scope)
        compared |= seen
        if not ok:
            return Decision(False, f"below the floor: {trace}", compared)
        reasons.append(f"floor met: {trace}")
    if spec.rule:
        uses_champion = parse_rule(spec.rule).uses_champion
        if champion_metrics is None and uses_champion:
            reasons.insert(0, "first model (no champion)")
        else:
            ok, trace, seen = _evaluate(spec.rule, scope)
            compared |= seen
            if not ok:
                return Decision(False, f"rule not met: {trace}", compared)
            reasons.append(f"rule met: {trace}")
    elif champion_metrics is None:
        reasons.insert(0, "first model (no champion)")
    return Decision(True, "; ".join(reasons) or "no rule: promoted", compared)
