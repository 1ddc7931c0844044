"""infra/template.yaml's stream processor: the event source mapping as the poller mimics it,
the metrics table, least-privilege roles (cfn-lint runs in tests/api/test_api_infra.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from test_api_infra import WRITE_LOGS, _actions, _statements, _template


def test_the_event_source_mapping_redelivers_bisects_and_keeps_failed_batches() -> None:
    esm = _template()["Resources"]["RealtimeEventSourceMapping"]["Properties"]
    assert esm["EventSourceArn"] == {"Fn::GetAtt": ["EventStream", "Arn"]}
    assert esm["StartingPosition"] == "TRIM_HORIZON"
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["BisectBatchOnFunctionError"] is True
    assert esm["ParallelizationFactor"] == 1  # the shard position is per shard
    assert esm["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["RealtimeFailedBatches", "Arn"]
    }
    assert {"BatchSize", "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts"} <= set(esm)
    function = _template()["Resources"]["RealtimeFunction"]["Properties"]
    assert function["Handler"] == "ecom.realtime.handler.handler"
    assert set(function["Environment"]["Variables"]) == {"ECOM_METRICS_TABLE", "ECOM_BUCKET"}


def test_the_metrics_table_is_on_demand_with_ttl_on_the_fine_buckets() -> None:
    table = _template()["Resources"]["MetricsTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]


def test_the_processor_and_the_reader_have_least_privilege() -> None:
    resources = _template()["Resources"]
    processor = _statements(resources["RealtimeRole"])
    assert _actions(processor) == {
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kms:Decrypt",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:UpdateItem",
        "s3:PutObject",
        "sqs:SendMessage",
        *WRITE_LOGS,
    }
    by_sid = {s["Sid"]: s for s in processor}
    assert by_sid["MetricsExactlyOnce"]["Resource"] == {"Fn::GetAtt": ["MetricsTable", "Arn"]}
    assert by_sid["Quarantine"]["Resource"] == {
        "Fn::Sub": "${LandingBucket.Arn}/quarantine/realtime/*"
    }
    assert by_sid["DecryptTheStream"]["Condition"]  # only through Kinesis
    assert all(s["Resource"] != "*" for s in processor)
    reader = _statements(resources["MetricsReadRole"])
    assert _actions(reader) == {"dynamodb:GetItem", "dynamodb:Query", *WRITE_LOGS}
    method = resources["MetricsGet"]["Properties"]
    assert method["ApiKeyRequired"] is True and method["HttpMethod"] == "GET"
