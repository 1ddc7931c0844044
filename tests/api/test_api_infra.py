"""infra/template.yaml: cfn-lint passes, the emulator subset deploys, the AWS-only parts are least privilege."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aws_fixtures import AwsStack
from ecom.aws.stack import TEMPLATE

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, !GetAtt, ...) as their long forms."""


def _short_form(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_form)


@functools.cache
def _template() -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    return template


def test_cfn_lint_passes_on_the_template() -> None:
    result = subprocess.run(
        [str(CFN_LINT), str(TEMPLATE)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_emulator_gets_the_local_subset_and_none_of_the_aws_only_resources(
    aws_stack: AwsStack,
) -> None:
    # given the stack deployed with the default Environment=local (as `ecom aws up` does)
    assert set(aws_stack.outputs) == {
        "LandingBucketName",
        "EventStreamName",
        "EventStreamArn",
        "CheckpointTableName",
        "MetricsTableName",
    }
    assert aws_stack.client("kinesis").describe_stream_summary(StreamName=aws_stack.stream)
    aws_stack.client("s3").head_bucket(Bucket=aws_stack.bucket)
    assert aws_stack.client("dynamodb").describe_table(TableName=aws_stack.checkpoint_table)
    # then nothing the emulator cannot run was created
    roles = aws_stack.client("iam").list_roles()["Roles"]
    assert not [r for r in roles if r["RoleName"].startswith(aws_stack.prefix)]
    apis = aws_stack.client("apigateway").get_rest_apis()["items"]
    assert not [a for a in apis if a["name"].startswith(aws_stack.prefix)]
    resources = aws_stack.client("cloudformation").describe_stack_resources(
        StackName=aws_stack.stack_name
    )["StackResources"]
    types = {r["ResourceType"] for r in resources if "ResourceType" in r}
    assert types == {"AWS::S3::Bucket", "AWS::Kinesis::Stream", "AWS::DynamoDB::Table"}


def test_every_aws_only_resource_is_conditional() -> None:
    template = _template()
    local_types = {"AWS::S3::Bucket", "AWS::Kinesis::Stream", "AWS::DynamoDB::Table"}
    for name, resource in template["Resources"].items():
        if resource["Type"] not in local_types:
            assert resource.get("Condition") == "IsAws", name
    for name in ("LandingBucketName", "EventStreamName", "CheckpointTableName"):
        assert "Condition" not in template["Outputs"][name]  # what ecom.aws.session reads


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }


#: What every function's role may do with its logs, and no more.
WRITE_LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_the_ingest_lambda_may_only_put_to_the_one_stream_and_write_its_prefixes() -> None:
    resources = _template()["Resources"]
    statements = _statements(resources["IngestRole"])
    ingest = {"kinesis:PutRecords", "kinesis:ListShards", "s3:PutObject", "s3:GetObject"}
    assert _actions(statements) == ingest | WRITE_LOGS
    kinesis = next(s for s in statements if s["Sid"] == "PutToTheOneStream")
    assert kinesis["Resource"] == {"Fn::GetAtt": ["EventStream", "Arn"]}
    assert all(s["Resource"] != "*" for s in statements)
    s3_resources = [
        str(r) for s in statements if s["Action"] == "s3:PutObject" for r in s["Resource"]
    ]
    assert all("/quarantine/api/*" in r or "/deadletter/producer/*" in r for r in s3_resources)
    function = resources["IngestFunction"]["Properties"]
    assert function["Handler"] == "ecom.api.handler.handler"
    assert set(function["Environment"]["Variables"]) == {"ECOM_STREAM", "ECOM_BUCKET"}


def test_the_gateway_requires_a_key_validates_requests_and_meters_them() -> None:
    resources = _template()["Resources"]
    method = resources["EventsPost"]["Properties"]
    assert method["ApiKeyRequired"] is True
    assert method["Integration"]["Type"] == "AWS_PROXY"
    validator = resources["EventsValidator"]["Properties"]
    assert validator["ValidateRequestBody"] and validator["ValidateRequestParameters"]
    schema = resources["EventsBodyModel"]["Properties"]["Schema"]
    assert schema["maxItems"] == 500
    plan = resources["IngestUsagePlan"]["Properties"]
    assert {"Throttle", "Quota", "ApiStages"} <= set(plan)
    assert resources["IngestUsagePlanKey"]["Properties"]["KeyType"] == "API_KEY"


def test_bucket_is_tls_only_encrypted_and_expires_quarantine() -> None:
    resources = _template()["Resources"]
    statement = resources["LandingBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket = resources["LandingBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    prefixes = {r.get("Prefix") for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert {"quarantine/", "deadletter/"} <= prefixes


@pytest.mark.parametrize("role", ["RedshiftCopyRole"])
def test_the_copy_role_reads_only_landing_and_manifests(role: str) -> None:
    statements = _statements(_template()["Resources"][role])
    gets = next(s for s in statements if s["Action"] == "s3:GetObject")
    assert [r["Fn::Sub"] for r in gets["Resource"]] == [
        "${LandingBucket.Arn}/landing/*",
        "${LandingBucket.Arn}/manifests/*",
    ]
    lists = next(s for s in statements if s["Action"] == "s3:ListBucket")
    assert lists["Condition"]["StringLike"]["s3:prefix"] == ["landing/*", "manifests/*"]
    assert {s["Action"] for s in statements} == {"s3:GetObject", "s3:ListBucket"}
