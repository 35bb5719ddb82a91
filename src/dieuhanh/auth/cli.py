"""`dieuhanh users`: create accounts and set passwords."""

from __future__ import annotations

import sys

import click

from dieuhanh.core.cli import cli_runtime, cli_session, guard


@click.group()
def users() -> None:
    """Accounts."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(
        ["province_admin", "province_operator", "department_officer", "commune_officer", "viewer"]
    ),
)
@click.option("--unit", "unit_code", required=True, help="Code of the unit the account belongs to.")
@click.option("--full-name", default="")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(
    username: str,
    role: str,
    unit_code: str,
    full_name: str,
    email: str | None,
    password_stdin: bool,
) -> None:
    """Create an account bound to a unit."""
    from dieuhanh.auth.service import UserFields, create_user

    runtime = cli_runtime()
    password = _read_password(password_stdin)

    def run() -> None:
        with cli_session(runtime) as session:
            user = create_user(
                session,
                runtime.passwords,
                username,
                password,
                role,
                unit_code,
                UserFields(full_name=full_name, email=email),
            )
            session.commit()
            click.echo(f"created {user.username} ({user.role}, {user.unit.name})")

    guard(run)


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set an account's password (and re-enable it)."""
    from dieuhanh.auth.service import get_user, set_password

    runtime = cli_runtime()
    password = _read_password(password_stdin)

    def run() -> None:
        with cli_session(runtime) as session:
            user = get_user(session, username)
            set_password(runtime.passwords, user, password)
            user.is_active = True
            session.commit()
            click.echo(f"password of {user.username} changed")

    guard(run)
