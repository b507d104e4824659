"""Commands registered by name: a command's module is imported only when that command runs.

Building typer's click commands needs each command function's signature, so registering a
command the usual way imports its module, and everything that module imports, before any
command runs. Here the root group knows each command by name, module and one help line;
``lakegate --help`` lists them from that table, and ``lakegate NAME ...`` imports only the
module(s) behind NAME and builds their commands with their own ``register(app)``.

The root group is also the one place a :class:`LakegateError` becomes an exit code
(``_errors.report``), for every command at once.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_group

from lakegate.cli import _errors
from lakegate.cli._registry import entries

if TYPE_CHECKING:
    # typer ships its own copy of click; its Context is what the group's methods receive.
    from typer._click import Context

__all__ = ["LazyGroup", "build"]


# Commands built once per process for each tuple of modules: a module's ``register`` may add
# commands to another module's sub-app (``kb register``), which must happen only once.
_BUILT: dict[tuple[str, ...], dict[str, Any]] = {}


def build(modules: tuple[str, ...], rich_markup_mode: Any) -> dict[str, Any]:
    """Import ``modules``, run their ``register`` on a scratch app, return its click commands."""
    if modules not in _BUILT:
        scratch = typer.Typer(rich_markup_mode=rich_markup_mode)
        for module in modules:
            importlib.import_module(module).register(scratch)
        _BUILT[modules] = dict(get_group(scratch).commands)
    return _BUILT[modules]


class LazyGroup(TyperGroup):
    """The root ``lakegate`` group: commands from the registry, errors mapped to exit codes."""

    _listing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # typer suggests "Did you mean" from the commands built so far, which here is none:
        # ``resolve_command`` suggests from the whole registry instead.
        self._suggest_all, self.suggest_commands = self.suggest_commands, False

    def list_commands(self, ctx: Context) -> list[str]:
        declared = list(entries())
        return declared + [name for name in self.commands if name not in declared]

    def get_command(self, ctx: Context, cmd_name: str) -> Any:
        entry = entries().get(cmd_name)
        if cmd_name in self.commands or entry is None:
            return self.commands.get(cmd_name)
        if self._listing:
            # Only the name and help line are read to list commands: import nothing.
            return TyperCommand(cmd_name, help=entry.help, rich_markup_mode=self.rich_markup_mode)
        for name, command in build(entry.modules, self.rich_markup_mode).items():
            self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Context, formatter: Any) -> None:
        with self._listing_only():
            super().format_help(ctx, formatter)

    @contextmanager
    def _listing_only(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def resolve_command(self, ctx: Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:
            matches = (
                get_close_matches(args[0], self.list_commands(ctx)) if args and self._suggest_all else []
            )
            if matches:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(map(repr, matches))}?"
            raise

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        ctx.meta[_errors.VERBOSE_KEY] = _errors.verbose_requested(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        with _errors.report(verbose=bool(ctx.meta.get(_errors.VERBOSE_KEY))):
            return super().invoke(ctx)
