"""``ecom api serve``: the ingestion endpoint on 127.0.0.1, in front of the stream."""

from __future__ import annotations

import os
import secrets
import sys

import click
from rich.console import Console

from ecom.cli_options import port_option

console = Console(stderr=True, soft_wrap=True)


@click.group("api")
def api() -> None:
    """The HTTP ingestion endpoint (the API Gateway + Lambda handler, served locally)."""


@api.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@port_option(8080, "Port (0: a free one; the URL is printed).")
def serve(host: str, port: int) -> None:
    """Serve POST /events, GET /metrics/... and GET /openapi.json with the Lambda handlers,
    until Ctrl-C.

    Events go to the stack's Kinesis stream on whichever AWS the commands resolve to
    (the emulator after `ecom aws up`). Clients send the key from $ECOM_API_KEY (or one
    of the comma-separated $ECOM_API_KEYS) in the x-api-key header; without either, a
    key is generated for this run and printed. GET /metrics/totals|breakdown|top|active
    read the live KPIs that `ecom realtime` writes to DynamoDB (same key).
    """
    from ecom.api.handler import app_from_environment
    from ecom.api.server import base_url, make_server
    from ecom.aws import session

    generated = None
    from ecom import settings

    if settings.get().api_key_set() is None:
        generated = secrets.token_urlsafe(24)
        os.environ["ECOM_API_KEY"] = generated
    app = app_from_environment()
    try:
        server = make_server(app, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    url = base_url(server)
    console.print(
        f"ingesting into stream [bold]{app.config.stream}[/bold] on the {session.target().describe()}"
    )
    if generated:
        console.print(
            "ECOM_API_KEY is not set: clients must send this key generated for this run:\n"
            f"  export ECOM_API_KEY={generated}"
        )
    console.print(f"OpenAPI document: {url}/openapi.json · stop with Ctrl-C")
    click.echo(f"serving on {url}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(group: click.Group) -> None:
    group.add_command(api)
