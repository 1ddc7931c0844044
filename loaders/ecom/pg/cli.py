"""``ecom postgres up|down|status|env``: a throwaway PostgreSQL server for the ``postgres`` target."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ecom.pg.server import PostgresServer


def register(group: click.Group) -> None:
    group.add_command(postgres)


def state_file() -> Path:
    from ecom.warehouse import local_state_dir

    return local_state_dir() / "postgres" / "server.json"


def running_server() -> PostgresServer | None:
    """The server `ecom postgres up` started, if it still runs (else None, state cleaned up)."""
    from ecom.pg.server import PostgresServer

    path = state_file()
    if not path.exists():
        return None
    server = PostgresServer.load(path)
    if server.running():
        return server
    path.unlink(missing_ok=True)
    return None


def _exports(env: dict[str, str]) -> str:
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())


@click.group("postgres")
def postgres() -> None:
    """A throwaway local PostgreSQL server for the dbt `postgres` target and `ecom load`.

    \b
      eval "$(ecom postgres up)"     start one (or reuse it) and set its variables
      ecom dbt build --target postgres
      ecom postgres down             stop it and delete its data

    It uses Debian's PostgreSQL programs (`make postgres-setup` installs them), a fresh
    cluster in a temporary folder, a free port of 127.0.0.1 and a random password. It
    does not survive a reboot and trades durability for speed: for development only.
    """


@postgres.command("up")
def up() -> None:
    """Start the server (or reuse the running one) and print `export` lines for its variables."""
    from ecom.pg.server import PostgresError, PostgresServer

    server = running_server()
    if server is None:
        try:
            server = PostgresServer.start()
        except PostgresError as exc:
            raise click.ClickException(str(exc)) from exc
        server.save(state_file())
        click.echo(f"# started PostgreSQL on 127.0.0.1:{server.port} ({server.root})", err=True)
    click.echo(_exports({**server.env(), "DBT_TARGET": "postgres"}))


@postgres.command("env")
def env() -> None:
    """Print `export` lines for the running server's variables (exit 1 if none runs)."""
    server = running_server()
    if server is None:
        raise click.ClickException("no server runs: start one with `ecom postgres up`")
    click.echo(_exports({**server.env(), "DBT_TARGET": "postgres"}))


@postgres.command("status")
def status() -> None:
    """Say whether the server runs, and where (exit 1 if it does not)."""
    server = running_server()
    if server is None:
        click.echo("not running")
        raise SystemExit(1)
    click.echo(
        f"running on {server.host}:{server.port}, database {server.database}, "
        f"user {server.user}, data in {server.data_dir}"
    )


@postgres.command("down")
def down() -> None:
    """Stop the server and delete its data."""
    server = running_server()
    if server is None:
        click.echo("not running")
        return
    server.stop()
    state_file().unlink(missing_ok=True)
    click.echo(f"stopped PostgreSQL on port {server.port} and deleted {server.root}")
