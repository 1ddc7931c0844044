"""``ecom aws up | down | status | deploy``: the local AWS emulator and the stack in it."""

from __future__ import annotations

import click
from rich.console import Console

from ecom.cli_options import port_option

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _stack_params(prefix: str | None, shards: int | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if prefix:
        params["Prefix"] = prefix
    if shards:
        params["ShardCount"] = str(shards)
    return params


@click.group("aws")
def aws() -> None:
    """The local AWS emulator (a moto server) and the CloudFormation stack in it.

    \b
    ecom aws up       start the emulator on 127.0.0.1 and deploy infra/template.yaml into it
    ecom aws status   where the commands' AWS is, and the stack's resource names
    ecom aws down     stop the emulator (its data is in memory and goes with it)
    ecom aws deploy   deploy infra/template.yaml wherever AWS resolves to (e.g. a real account)
    """


@aws.command()
@port_option(None, "Port (default: a free one).", any_free=False)
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=None,
    help="Kinesis shards (template default: 2).",
)
@click.option("--prefix", default=None, help="Resource name prefix (template default: ecom).")
def up(port: int | None, shards: int | None, prefix: str | None) -> None:
    """Start the local AWS emulator in the background and deploy the stack into it.

    Idempotent: with an emulator already running it is reused and the stack is
    updated in place. Its endpoint is recorded in $ECOM_HOME/aws.json (default
    .ecom/aws.json), which every other command reads.
    """
    from ecom import settings
    from ecom.aws import emulator, session

    endpoint = settings.get().aws_endpoint_url
    if endpoint:
        console.print(
            f"[yellow]note[/yellow] AWS_ENDPOINT_URL={endpoint} is set and takes "
            "precedence over the emulator; unset it to use the emulator."
        )
    emu = emulator.start(port=port)
    verb = "started" if emu.started else "already running"
    console.print(
        f"AWS emulator {verb} at [bold]{emu.endpoint}[/bold] (pid {emu.pid}; log {emu.log})"
    )
    t = session.Target("emulator", emu.endpoint, emu.region, session.stack_name())
    from ecom.aws.stack import deploy

    outputs = deploy(
        session.client("cloudformation", target_=t), t.stack_name, _stack_params(prefix, shards)
    )
    session.forget()
    out.print(f"stack [bold]{t.stack_name}[/bold] deployed from infra/template.yaml:")
    for key, value in sorted(outputs.items()):
        out.print(f"  {key:<20} {value}")
    out.print("\nPoint the AWS CLI at it:")
    for line in emulator.env_lines(emu.endpoint, emu.region):
        out.print(f"  {line}", highlight=False, soft_wrap=True)
    out.print(
        f"  aws kinesis list-shards --stream-name {outputs.get('EventStreamName', '...')}",
        highlight=False,
    )
    out.print("Stop it with `ecom aws down`.")


@aws.command()
def down() -> None:
    """Stop the local AWS emulator started by `ecom aws up` (its data is lost)."""
    from ecom.aws import emulator

    pid = emulator.stop()
    if pid is None:
        console.print("no AWS emulator was running")
    else:
        console.print(f"AWS emulator stopped (pid {pid})")


@aws.command()
def status() -> None:
    """Show which AWS the commands talk to and the stack's resource names."""
    from ecom.aws import session

    t = session.target()
    out.print(f"AWS: {t.describe()} · region {t.region} · stack {t.stack_name}")
    r = session.resources(t)
    out.print(f"  bucket            {r.bucket}")
    out.print(f"  stream            {r.stream}")
    out.print(f"  checkpoint table  {r.checkpoint_table}")


@aws.command("deploy")
@click.option("--shards", type=click.IntRange(min=1), default=None, help="Kinesis shards.")
@click.option("--prefix", default=None, help="Resource name prefix (template default: ecom).")
def deploy_cmd(shards: int | None, prefix: str | None) -> None:
    """Deploy infra/template.yaml as stack $ECOM_STACK (default ecom) wherever AWS resolves to."""
    from ecom.aws import emulator, session

    t = session.target()
    console.print(f"deploying stack {t.stack_name} to the {t.describe()}")
    outputs = emulator.deploy_stack(_stack_params(prefix, shards))
    for key, value in sorted(outputs.items()):
        out.print(f"  {key:<20} {value}")


def register(group: click.Group) -> None:
    group.add_command(aws)
