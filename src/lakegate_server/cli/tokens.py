"""``lakegate token create|list|revoke`` and ``lakegate user create``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lakegate.cli._common import JsonOpt, VerboseOpt, console, err_console, print_json
from lakegate_server.cli._setup import server_command

__all__ = ["register"]

tokens = typer.Typer(help="API tokens (roles: viewer, editor, admin).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens, name="token")
    app.add_typer(users, name="user")


def _token_dict(token: object) -> dict[str, object]:
    fields = ("id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at")
    return {name: getattr(token, name) for name in fields}


@tokens.command("create")
def create(
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    name: Annotated[str, typer.Option(help="Who or what uses the token.")] = "cli",
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Create a token and print its secret (shown only once)."""
    server_command("cli", verbose=verbose)
    from lakegate_server.accounts.services import token_create

    issued = token_create(name=name, role=role)
    if json_output:
        print_json({**_token_dict(issued.token), "token": issued.raw})
        return
    err_console.print(f"Created {issued.token.role} token {issued.token.name!r} (id {issued.token.pk}).")
    err_console.print("Send it as `Authorization: Bearer <token>`; it is not shown again:")
    console.print(issued.raw, highlight=False)


@tokens.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """List tokens (never their secrets)."""
    server_command("cli", verbose=verbose)
    from lakegate_server.accounts.selectors import token_list

    rows = [_token_dict(t) for t in token_list(include_revoked=all_)]
    if json_output:
        print_json({"items": rows})
        return
    table = Table("id", "name", "role", "prefix", "created", "last used", "revoked")
    for row in rows:
        table.add_row(
            *(str(row[k] or "") for k in ("id", "name", "role", "prefix")),
            *(str(row[k] or "")[:19] for k in ("created_at", "last_used_at", "revoked_at")),
        )
    console.print(table)


@tokens.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see `lakegate token list`).")],
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    server_command("cli", verbose=verbose)
    from lakegate_server.accounts.services import token_revoke

    token = token_revoke(token_id=token_id)
    if json_output:
        print_json(_token_dict(token))
        return
    console.print(f"Revoked token {token.pk} ({token.name}).")


users = typer.Typer(help="Dashboard logins (roles: viewer, editor, admin).", no_args_is_help=True)


@users.command("create")
def user_create_(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (at least 8 characters); asked for when not given.", envvar="LAKEGATE_PASSWORD"
        ),
    ] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Create a dashboard login with a role."""
    server_command("cli", verbose=verbose)
    from lakegate_server.accounts.services import user_create

    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = user_create(username=username, password=secret, role=role)
    if json_output:
        print_json({"id": user.pk, "username": user.username, "role": role})
        return
    console.print(f"Created {role} login {user.username!r}.")
