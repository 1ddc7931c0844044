"""The ingestion Lambda handler, called with API Gateway proxy events, against a real moto server."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from api_helpers import API_KEY, CSV_ROW, json_event, proxy_event, run_sink
from botocore.awsrequest import AWSResponse

from aws_fixtures import AwsStack
from ecom.api.handler import ApiConfig, IngestApp
from ecom.events import Event, parse_fields
from ecom.stream.records import decode_record

CSV_EVENT = parse_fields(CSV_ROW)
assert isinstance(CSV_EVENT, Event)


def call(app: IngestApp, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    if not isinstance(body, bytes | str) and body is not None:
        body = json.dumps(body)
    response = app(proxy_event(body, **kwargs))
    return response["statusCode"], json.loads(response["body"])


def stream_event_ids(stack: AwsStack) -> list[str]:
    """Every event_id in the stream (all shards, from the start)."""
    kinesis = stack.client("kinesis")
    ids: list[str] = []
    for shard in kinesis.list_shards(StreamName=stack.stream)["Shards"]:
        it = kinesis.get_shard_iterator(
            StreamName=stack.stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            resp = kinesis.get_records(ShardIterator=it, Limit=10_000)
            ids += [row[0] for r in resp["Records"] for row in decode_record(r["Data"])]
            if not resp["Records"]:
                break
            it = resp.get("NextShardIterator")
    return ids


def quarantined(stack: AwsStack, key: str) -> list[dict[str, Any]]:
    body = stack.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in body.decode().splitlines()]


def test_one_json_event_gets_the_csv_event_id_and_lands(
    app: IngestApp, aws_stack: AwsStack
) -> None:
    status, body = call(app, json_event())
    assert status == 200, body
    assert body["accepted"] == 1 and body["rejected"] == 0
    assert body["results"] == [{"index": 0, "status": "accepted", "event_id": CSV_EVENT.event_id}]
    run_sink(aws_stack)
    rows = landing_rows(aws_stack)
    assert [r["event_id"] for r in rows] == [CSV_EVENT.event_id]
    row = rows[0]
    assert (row["event_time"], row["price"], row["category_id"], row["category_code"]) == (
        "2019-10-01 00:00:00",
        "2.62",
        "1487580005134238553",
        "",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"event_time": "2019-10-01T00:00:00Z"},
        {"event_time": "2019-10-01T00:00:00+00:00"},
        {"price": "2.62"},
        {"price": 2.620},
        {"product_id": "5773203", "user_id": "463240011"},
        {"category_id": 1487580005134238553},  # a JSON integer above 2^53 keeps every digit
        {"category_code": ""},
    ],
    ids=repr,
)
def test_json_spellings_of_one_event_share_its_event_id(
    app: IngestApp, changes: dict[str, Any]
) -> None:
    status, body = call(app, json_event(**changes))
    assert status == 200, body
    assert body["results"][0]["event_id"] == CSV_EVENT.event_id


@pytest.mark.parametrize(
    ("json_price", "csv_price"),
    [(3, "3"), (3.0, "3.00"), ("03.5", "3.50"), (-0.0, "0.00"), (1e2, "100.00")],
)
def test_json_numbers_become_the_contracts_price(
    app: IngestApp, json_price: Any, csv_price: str
) -> None:
    expected = parse_fields((*CSV_ROW[:6], csv_price, *CSV_ROW[7:]))
    assert isinstance(expected, Event)
    status, body = call(app, json_event(price=json_price))
    assert status == 200, body
    assert body["results"][0]["event_id"] == expected.event_id


def test_mixed_batch_answers_207_lands_the_valid_and_quarantines_the_rest(
    app: IngestApp, aws_stack: AwsStack
) -> None:
    other = json_event(event_type="view", product_id=5000088)
    batch = [
        json_event(),
        json_event(price=1.234),
        json_event(user_id=None),
        json_event(colour="red"),
        "not an event",
        json_event(event_time="2019-02-30 10:00:00 UTC"),
        json_event(brand=True),
        json_event(brand="two\nlines"),
        other,
    ]
    status, body = call(app, batch)
    assert status == 207, body
    assert (body["accepted"], body["rejected"], body["failed"]) == (2, 7, 0)
    by_index = {r["index"]: r for r in body["results"]}
    assert [by_index[i].get("reason") for i in range(len(batch))] == [
        None,
        "bad_price",
        "missing_field",
        "unknown_field",
        "not_an_object",
        "bad_event_time",
        "wrong_type",
        "control_character",
        None,
    ]
    assert all(r["detail"] for r in body["results"] if r["status"] == "rejected")
    assert "user_id is required" in by_index[2]["detail"]
    assert "'colour'" in by_index[3]["detail"]

    lines = quarantined(aws_stack, body["quarantine"])
    assert body["quarantine"].startswith("quarantine/api/dt=")
    assert [(q["line"], q["reason"]) for q in lines] == [
        (i, by_index[i]["reason"]) for i in range(1, 8)
    ]
    assert json.loads(lines[0]["raw"])["price"] == 1.234  # the raw JSON, number as posted
    assert all(q["stage"] == "api" and q["request_id"] == body["request_id"] for q in lines)
    assert all(q["source"] == "request:" + body["request_id"] for q in lines)

    accepted = {by_index[0]["event_id"], by_index[8]["event_id"]}
    assert set(stream_event_ids(aws_stack)) == accepted
    run_sink(aws_stack)
    assert sorted(r["event_id"] for r in landing_rows(aws_stack)) == sorted(accepted)


def test_all_rejected_is_400_with_a_reason_each_and_nothing_in_the_stream(
    app: IngestApp, aws_stack: AwsStack
) -> None:
    status, body = call(app, [json_event(event_type="click"), json_event(product_id=-1)])
    assert status == 400
    assert body["error"] == "no_valid_events"
    assert [r["reason"] for r in body["results"]] == ["unknown_event_type", "bad_product_id"]
    assert len(quarantined(aws_stack, body["quarantine"])) == 2
    assert stream_event_ids(aws_stack) == []


def test_ndjson_lines_are_validated_one_by_one(app: IngestApp, aws_stack: AwsStack) -> None:
    lines = [json.dumps(json_event()), "", "{not json", json.dumps(json_event(user_id="x")), "  "]
    body_bytes = ("\r\n".join(lines) + "\n").encode() + b'{"brand": "\xff"}\n'
    status, body = call(app, body_bytes, content_type="application/x-ndjson", base64_body=True)
    assert status == 207, body
    assert [(r["index"], r["status"], r.get("reason")) for r in body["results"]] == [
        (0, "accepted", None),
        (1, "rejected", "invalid_json"),
        (2, "rejected", "bad_user_id"),
        (3, "rejected", "invalid_utf8"),
    ]
    assert quarantined(aws_stack, body["quarantine"])[0]["raw"] == "{not json"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b"", "application/json", 400, "empty_body"),
        (b"  \n", "application/x-ndjson", 400, "empty_body"),
        (b"42", "application/json", 400, "not_an_object"),
        (b"[]", "application/json", 400, "empty_batch"),
        (b"\xff\xfe{}", "application/json", 400, "invalid_utf8"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "invalid_json"),
        (b"event_time,event_type\n", "text/csv", 415, "unsupported_media_type"),
    ],
    ids=[
        "invalid-json",
        "empty",
        "empty-ndjson",
        "number",
        "empty-array",
        "not-utf8",
        "deep",
        "csv",
    ],
)
def test_unreadable_bodies_get_one_clear_4xx(
    app: IngestApp, aws_stack: AwsStack, body: bytes, content_type: str, status: int, reason: str
) -> None:
    got, answer = call(app, body, content_type=content_type, base64_body=True)
    assert (got, answer["error"]) == (status, reason)
    assert answer["detail"]
    if status == 400 and reason != "empty_body":
        assert quarantined(aws_stack, answer["quarantine"])[0]["reason"] == reason


def test_lone_surrogates_and_absurd_numbers_are_rejections_not_errors(app: IngestApp) -> None:
    base = json.dumps(json_event())
    surrogate = base.replace('"runail"', '"\\ud800"')
    huge = base.replace("2.62", "1e999999999")
    nan = base.replace("2.62", "NaN")
    long_id = base.replace("5773203", "9" * 5000)
    status, body = call(app, f"[{surrogate},{huge},{nan},{long_id}]")
    assert status == 400, body
    assert [r["reason"] for r in body["results"]] == [
        "invalid_utf8",
        "bad_price",
        "bad_price",
        "field_too_long",
    ]


def test_oversize_bodies_and_batches_get_413(aws_stack: AwsStack, app: IngestApp) -> None:
    small = IngestApp(
        app.kinesis,
        app.s3,
        ApiConfig(
            stream=aws_stack.stream, bucket=aws_stack.bucket, max_body_bytes=2_000, max_events=3
        ),
    )
    status, body = call(small, [json_event()] * 10, api_key=None)
    assert (status, body["error"]) == (413, "body_too_large")
    status, body = call(small, [json_event(), json_event(), json_event(), json_event()])
    assert (status, body["error"]) == (413, "too_many_events")
    assert "limit 3" in body["detail"]
    status, body = call(app, [json_event()] * 501)
    assert (status, body["error"]) == (413, "too_many_events")
    assert stream_event_ids(aws_stack) == []


def test_api_key_is_required_and_checked(app: IngestApp, aws_stack: AwsStack) -> None:
    status, body = call(app, json_event(), api_key=None)
    assert (status, body["error"]) == (401, "missing_api_key")
    status, body = call(app, json_event(), api_key=API_KEY + "x")
    assert (status, body["error"]) == (403, "invalid_api_key")
    assert stream_event_ids(aws_stack) == []
    s3 = aws_stack.client("s3")
    assert "Contents" not in s3.list_objects_v2(Bucket=aws_stack.bucket, Prefix="quarantine/")


def test_routes(app: IngestApp) -> None:
    assert call(app, None, method="GET")[0] == 405
    assert call(app, None, method="GET", path="/nowhere")[0] == 404
    status, doc = call(app, None, method="GET", path="/openapi.json", api_key=None)
    assert status == 200
    assert doc["openapi"].startswith("3.") and "/events" in doc["paths"]
    assert call(app, "x", method="POST", base64_body=False, content_type=None)[0] == 400
    bad_b64 = proxy_event("!!!", base64_body=False)
    bad_b64["isBase64Encoded"] = True
    response = app(bad_b64)
    assert (response["statusCode"], json.loads(response["body"])["error"]) == (
        400,
        "invalid_base64",
    )


def test_events_the_stream_refuses_are_dead_lettered_and_answered_503(
    app: IngestApp, aws_stack: AwsStack
) -> None:
    def throttled(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}
        return AWSResponse("http://kinesis", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {},
        }

    app.kinesis.meta.events.register("before-call.kinesis.PutRecords", throttled)
    status, body = call(app, [json_event(), json_event(event_type="view")])
    assert status == 503, body
    assert [r["status"] for r in body["results"]] == ["failed", "failed"]
    assert {r["reason"] for r in body["results"]} == {"kinesis_put_failed"}
    s3 = aws_stack.client("s3")
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=aws_stack.bucket, Prefix="deadletter/")["Contents"]
    ]
    dead = [
        json.loads(line)
        for k in keys
        for line in s3.get_object(Bucket=aws_stack.bucket, Key=k)["Body"]
        .read()
        .decode()
        .splitlines()
    ]
    assert sorted(d["event_id"] for d in dead) == sorted(r["event_id"] for r in body["results"])


def landing_rows(stack: AwsStack) -> list[dict[str, str]]:
    import csv
    import gzip
    import io

    s3 = stack.client("s3")
    rows: list[dict[str, str]] = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="landing/")
    for page in pages:
        for obj in page.get("Contents", []):
            data = gzip.decompress(
                s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read()
            )
            rows.extend(csv.DictReader(io.StringIO(data.decode(), newline="")))
    return rows


def test_base64_bodies_from_the_gateway_are_read(app: IngestApp) -> None:
    raw = json.dumps(json_event()).encode()
    event = proxy_event(base64.b64encode(raw).decode())
    event["isBase64Encoded"] = True
    assert app(event)["statusCode"] == 200


def test_the_lambda_app_has_one_layer_of_put_retries_and_its_bound_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ecom.api.handler import API_RETRY, app_from_environment

    for name, value in {
        "ECOM_STREAM": "events",
        "ECOM_BUCKET": "landing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    app = app_from_environment()
    # botocore makes one attempt per PutRecords call: the producer's retries are the only ones
    assert app.kinesis.meta.config.retries["total_max_attempts"] == 1
    assert API_RETRY.max_total_delay() == pytest.approx(0.05 + 0.1 + 0.2 + 0.4 + 0.8)


def test_the_ingestion_lambda_imports_no_dataframe_library() -> None:
    """The Lambda's cold start: importing the handler must not pull NumPy, Arrow, pandas or
    DuckDB (the producer's block path needs them, the HTTP path does not)."""
    import subprocess
    import sys

    heavy = ("numpy", "pyarrow", "pandas", "duckdb", "click")
    code = (
        f"import sys, ecom.api.handler; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
