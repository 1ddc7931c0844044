"""Deploy ``infra/template.yaml``: the one description of the AWS resources, local and real."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ecom.aws.session import find_stack
from ecom.errors import AwsError
from ecom.warehouse import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "infra" / "template.yaml"
#: Settled states a stack can be used in.
_USABLE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})
#: Settled states after which the stack cannot be used.
_FAILED = frozenset(
    {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED"}
)


class StackError(AwsError):
    """The stack could not be deployed (or did not settle in time)."""


def deploy(
    cfn: Any,
    stack_name: str,
    parameters: dict[str, str] | None = None,
    *,
    template: Path = TEMPLATE,
    timeout: float = 600.0,
) -> dict[str, str]:
    """Create or update ``stack_name`` from ``template``; wait; return the stack's outputs.

    An update whose template and parameters equal the deployed ones is not sent (CloudFormation
    would refuse it). ``UPDATE_ROLLBACK_COMPLETE`` is a usable stack, except right after an
    update of ours: then it means that update failed and was rolled back.
    """
    body = template.read_text()
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()]
    stack = find_stack(cfn, stack_name)
    updating = False
    if stack is None:
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=body,
            Parameters=params,
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    elif _deployed_template(cfn, stack_name) != body or any(
        _parameters(stack).get(p["ParameterKey"]) != p["ParameterValue"] for p in params
    ):
        cfn.update_stack(
            StackName=stack_name,
            TemplateBody=body,
            Parameters=params,
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        updating = True
    failed = _FAILED | ({"UPDATE_ROLLBACK_COMPLETE"} if updating else set())
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in failed:
            reason = stack.get("StackStatusReason", "")
            raise StackError(f"deploying stack {stack_name!r} failed: {status} {reason}".rstrip())
        if status in _USABLE:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if time.monotonic() > deadline:
            raise StackError(f"stack {stack_name!r} still {status} after {timeout:.0f}s")
        time.sleep(2.0)


def _deployed_template(cfn: Any, stack_name: str) -> str:
    body = cfn.get_template(StackName=stack_name)["TemplateBody"]
    return body if isinstance(body, str) else ""


def _parameters(stack: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
