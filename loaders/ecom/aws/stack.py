"""Deploy ``infra/template.yaml``: the one description of the AWS resources, local and real."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ecom.warehouse import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "infra" / "template.yaml"
_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")
_FAILED = ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED")


def deploy(
    cfn: Any,
    stack_name: str,
    parameters: dict[str, str] | None = None,
    *,
    template: Path = TEMPLATE,
    timeout: float = 600.0,
) -> dict[str, str]:
    """Create or update ``stack_name`` from ``template``; wait; return the stack's outputs."""
    from botocore.exceptions import ClientError

    body = template.read_text()
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()]
    try:
        cfn.describe_stacks(StackName=stack_name)
        exists = True
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        exists = False
    try:
        if exists:
            cfn.update_stack(
                StackName=stack_name,
                TemplateBody=body,
                Parameters=params,
                Capabilities=["CAPABILITY_NAMED_IAM"],
            )
        else:
            cfn.create_stack(
                StackName=stack_name,
                TemplateBody=body,
                Parameters=params,
                Capabilities=["CAPABILITY_NAMED_IAM"],
            )
    except ClientError as exc:
        if "No updates are to be performed" not in str(exc):
            raise
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in _FAILED or (status == "UPDATE_ROLLBACK_COMPLETE"):
            reason = stack.get("StackStatusReason", "")
            raise click.ClickException(f"deploying stack {stack_name!r} failed: {status} {reason}")
        if status in _DONE:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if time.monotonic() > deadline:
            raise click.ClickException(f"stack {stack_name!r} still {status} after {timeout:.0f}s")
        time.sleep(2.0)
