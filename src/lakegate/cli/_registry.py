"""The command table: each command's name, the module(s) that register it, its help line.

Kept free of typer and rich: the entry point declares the server's commands here before it
knows whether it will need a parser at all (``lakegate --version`` does not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Entry", "add_commands", "entries", "extend_command"]


@dataclass(frozen=True)
class Entry:
    """One top-level command or sub-app of ``lakegate``."""

    modules: tuple[str, ...]  # each has ``register(app)``; run in this order
    help: str  # the first paragraph of the command's help, as ``lakegate --help`` shows it
    group: bool  # a sub-app (``lakegate datasets list``) rather than one command


# Name -> entry, in registration order: ``lakegate --help`` lists the commands, then the
# sub-apps, each in this order (what typer does for commands registered on one app).
_REGISTRY: dict[str, Entry] = {}


def add_commands(
    module: str, *, commands: Mapping[str, str] | None = None, groups: Mapping[str, str] | None = None
) -> None:
    """Declare the commands and sub-apps ``module.register(app)`` adds, with their help lines."""
    for names, group in ((commands or {}, False), (groups or {}, True)):
        for name, help_line in names.items():
            _REGISTRY[name] = Entry(modules=(module,), help=help_line, group=group)


def extend_command(name: str, module: str) -> None:
    """``module.register(app)`` adds subcommands to the sub-app ``name`` (run after its own)."""
    entry = _REGISTRY[name]
    if module not in entry.modules:
        _REGISTRY[name] = Entry(modules=(*entry.modules, module), help=entry.help, group=entry.group)


def entries() -> dict[str, Entry]:
    """The declared commands, commands first and then sub-apps, each in declaration order."""
    ordered = sorted(_REGISTRY.items(), key=lambda item: item[1].group)  # stable: keeps the order
    return dict(ordered)


# The core commands. Each module's ``register(app)`` adds exactly these; each help line is the
# first paragraph of the command's docstring (or the sub-app's help), which ``lakegate --help``
# lists without importing the module (tests/core/cli/test_startup.py keeps them equal).
add_commands(
    "lakegate.cli.convert",
    commands={"convert": "Convert files into Parquet (zstd) or Delta tables, one per table found."},
)
add_commands(
    "lakegate.cli.project",
    commands={
        "init": "Create a project: [bold]lakegate.yaml[/bold] (commented defaults) "
        "and [bold].lakegate/[/bold]."
    },
)
add_commands(
    "lakegate.cli.kb",
    groups={"kb": "Knowledge base: index a folder of documents, search it, export it as a graph."},
)
