"""``ecom.aws.stack.deploy`` on a real moto server."""

from __future__ import annotations

from aws_fixtures import AwsStack
from ecom.aws import session
from ecom.aws.session import find_stack
from ecom.aws.stack import deploy


def test_an_unchanged_redeploy_sends_no_update_and_returns_the_outputs(
    aws_stack: AwsStack,
) -> None:
    cfn = session.client("cloudformation")
    params = {"Prefix": aws_stack.prefix, "ShardCount": "2"}
    updates: list[str] = []
    cfn.meta.events.register(
        "before-call.cloudformation.UpdateStack", lambda **_: updates.append("update")
    )
    assert deploy(cfn, aws_stack.stack_name, params) == aws_stack.outputs
    assert updates == []  # nothing changed: CloudFormation is not asked to update
    stack = find_stack(cfn, aws_stack.stack_name)
    assert stack is not None and stack["StackStatus"] == "CREATE_COMPLETE"
    assert find_stack(cfn, aws_stack.stack_name + "-absent") is None
