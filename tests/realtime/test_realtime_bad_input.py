"""Records the processor cannot use are quarantined with their reason; it keeps going and the
counts reconcile (records read = events applied + duplicates + quarantined)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from realtime_helpers import actual_figures, esm_record, expected_figures, poller, processor, reader

from aws_fixtures import AwsStack
from ecom.events import Event, parse_fields
from ecom.realtime.handler import QUARANTINE_PREFIX
from ecom.stream.records import encode_event


def _event(
    time: str, etype: str, price: str, *, code: str = "", brand: str = "", product: str = "5809910"
) -> Event:
    outcome = parse_fields(
        (
            f"{time} UTC",
            etype,
            product,
            "1602943681873052386",
            code,
            brand,
            price,
            "541312140",
            "s-1",
        )
    )
    assert isinstance(outcome, Event)
    return outcome


def _quarantine(stack: AwsStack) -> list[dict[str, Any]]:
    s3 = stack.client("s3")
    listed = s3.list_objects_v2(Bucket=stack.bucket, Prefix=QUARANTINE_PREFIX + "/")
    rows = []
    for obj in listed.get("Contents", []):
        body = s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read().decode()
        rows.extend(json.loads(line) for line in body.splitlines() if line)
    return rows


def test_poison_records_mid_batch_are_quarantined_and_the_rest_applied(aws_stack: AwsStack) -> None:
    # given, on one shard in this order: good events, an undecodable record, a record of a newer
    # format version, a line with a field missing, an event with a wrong id, an event of a
    # category nobody has seen, and good events again
    good = [
        _event("2019-10-01 08:15:03", "view", "3.50", brand="runail"),
        _event("2019-10-01 08:15:40", "purchase", "3.50", brand="runail"),
        _event("2019-10-01 08:16:00", "purchase", "-1.00"),
    ]
    unknown = _event(
        "2019-10-01 09:00:00", "purchase", "12.00", code="appliances.never.seen", product="99"
    )
    tampered = encode_event(good[0]).replace(good[0].event_id.encode(), b"0" * 32)
    data = [
        encode_event(good[0]),
        b"\xff\xfe not utf-8 \x80",
        b"#ecom-record/2\n" + encode_event(good[1]) + b",a-new-column\n",
        b"0123,2019-10-01 08:15:03,view\n",
        tampered,
        encode_event(unknown),
        encode_event(good[1]) + encode_event(good[2]),
    ]
    kinesis = aws_stack.client("kinesis")
    for payload in data:
        kinesis.put_record(StreamName=aws_stack.stream, Data=payload, PartitionKey="one-shard")
    # when the processor reads the stream
    proc = processor(aws_stack)
    esm = poller(aws_stack, proc)
    esm.run()
    # then nothing failed or was retried: the poison records were quarantined, with reasons
    r = proc.report
    assert esm.report.retries == 0 and r.records_failed == 0
    reasons = sorted(q["reason"] for q in _quarantine(aws_stack))
    assert reasons == sorted(
        ["invalid_utf8", "unsupported_record_version", "wrong_field_count", "event_id_mismatch"]
    )
    assert dict(r.quarantined_by_reason) == dict.fromkeys(reasons, 1)
    # and the counts reconcile, every valid event counted once (the unknown category too)
    assert r.records == len(data)
    assert r.lines == r.applied + r.duplicates + r.quarantined
    assert r.applied == 4
    assert actual_figures(aws_stack) == expected_figures([*good, unknown])
    rows = {
        row["key"]: row for row in reader(aws_stack).breakdown("category", "2019-10-01")["rows"]
    }
    assert rows["appliances.never.seen"]["revenue"] == "12.00"
    assert rows["(none)"]["events"]["purchase"] == 2


def test_the_handler_takes_the_event_source_shape_and_quarantines_bad_base64(
    aws_stack: AwsStack,
) -> None:
    # given a batch as a Kinesis event source mapping delivers it, with one record whose data is
    # not base64 between two good ones
    arn = aws_stack.outputs["EventStreamArn"]
    e1 = _event("2019-11-02 10:00:00", "cart", "5.00", brand="x")
    e2 = _event("2019-11-02 10:01:00", "purchase", "5.00", brand="x")
    records = [
        esm_record(arn, "shardId-000000000000", "1001", encode_event(e1)),
        esm_record(arn, "shardId-000000000000", "1002", b""),
        esm_record(arn, "shardId-000000000000", "1003", encode_event(e2)),
    ]
    records[1]["kinesis"]["data"] = "%%% not base64 %%%"
    proc = processor(aws_stack, position_every=0)  # the position moves with every batch
    # when the handler runs, twice (a redelivery)
    first = proc({"Records": records}, None)
    second = proc({"Records": records}, None)
    # then it answers a partial batch response with no failures, and applies each event once
    assert first == second == {"batchItemFailures": []}
    assert proc.report.records_skipped == 3  # the second time: at or before the position
    assert proc.report.quarantined_by_reason == {"invalid_base64": 1}
    assert actual_figures(aws_stack) == expected_figures([e1, e2])
    assert base64.b64decode(records[0]["kinesis"]["data"]) == encode_event(e1)


def test_a_failing_dynamodb_reports_the_first_record_as_a_batch_item_failure(
    aws_stack: AwsStack,
) -> None:
    # given a processor pointed at a table that does not exist (every write refused)
    arn = aws_stack.outputs["EventStreamArn"]
    e1 = _event("2019-11-02 10:00:00", "view", "5.00")
    records = [esm_record(arn, "shardId-000000000001", s, encode_event(e1)) for s in ("7", "8")]
    proc = processor(aws_stack)
    proc.table = "no-such-table"
    # when the handler runs, it does not raise: it asks for the batch again from its first record
    assert proc({"Records": records}, None) == {"batchItemFailures": [{"itemIdentifier": "7"}]}
    assert proc.report.records_failed == 2 and proc.report.applied == 0


@pytest.mark.parametrize("failing", ["condition", "bad_update"])
def test_the_patched_emulator_still_cancels_a_transaction_whole(
    aws_stack: AwsStack, failing: str
) -> None:
    # given an item, and a transaction that adds to it, creates another, and then fails
    dynamodb = aws_stack.client("dynamodb")
    table = aws_stack.outputs["MetricsTableName"]
    key = {"pk": {"S": "x"}, "sk": {"S": "a"}}
    dynamodb.put_item(TableName=table, Item={**key, "n": {"N": "1"}})
    last: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": "x"}, "sk": {"S": "c"}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    if failing == "condition":
        last["ConditionExpression"] = "attribute_exists(n)"
    else:
        last["UpdateExpression"] = "ADD n :text"
        last["ExpressionAttributeValues"] = {":text": {"S": "not a number"}}
    items = [
        {"Update": {"TableName": table, "Key": key, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": table, "Item": {"pk": {"S": "x"}, "sk": {"S": "b"}}}},
        {"Update": last},
    ]  # fmt: skip
    with pytest.raises(ClientError) as refused:  # cancelled (condition) or invalid (bad operand)
        dynamodb.transact_write_items(TransactItems=items)
    code = refused.value.response["Error"]["Code"]
    assert code == (
        "TransactionCanceledException" if failing == "condition" else "ValidationException"
    )
    # then nothing of it is left
    assert dynamodb.get_item(TableName=table, Key=key)["Item"]["n"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "x"}, "sk": {"S": "b"}}
    )
    assert "Item" not in dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "x"}, "sk": {"S": "c"}}
    )
