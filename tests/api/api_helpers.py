"""Helpers of the API tests: proxy events, HTTP calls, and reading the landing zone back."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from aws_fixtures import AwsStack
from ecom.stream.sink import Sink, SinkConfig

API_KEY = "test-key-0123456789"

#: A real row of the REES46 sample (2019-Oct), as its nine CSV fields.
CSV_ROW = (
    "2019-10-01 00:00:00 UTC",
    "cart",
    "5773203",
    "1487580005134238553",
    "",
    "runail",
    "2.62",
    "463240011",
    "26dd6e6e-4dac-4778-8d2c-92e149dab885",
)


def json_event(**changes: Any) -> dict[str, Any]:
    """The CSV_ROW event as a storefront would post it (ids as numbers, price as a number)."""
    event: dict[str, Any] = {
        "event_time": "2019-10-01 00:00:00 UTC",
        "event_type": "cart",
        "product_id": 5773203,
        "category_id": "1487580005134238553",
        "category_code": None,
        "brand": "runail",
        "price": 2.62,
        "user_id": 463240011,
        "user_session": "26dd6e6e-4dac-4778-8d2c-92e149dab885",
    }
    event.update(changes)
    return event


def proxy_event(
    body: bytes | str | None,
    *,
    method: str = "POST",
    path: str = "/events",
    content_type: str | None = "application/json",
    api_key: str | None = API_KEY,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as API Gateway hands it to the Lambda."""
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if api_key is not None:
        headers["x-api-key"] = api_key
    if isinstance(body, bytes):
        text = base64.b64encode(body).decode() if base64_body else body.decode("utf-8")
    else:
        text = body  # type: ignore[assignment]
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "body": text,
        "isBase64Encoded": base64_body,
        "requestContext": {"requestId": "req-" + str(abs(hash((path, text))))},
    }


def post(
    url: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    api_key: str | None = API_KEY,
    timeout: float = 30.0,
) -> tuple[int, dict[str, Any]]:
    """POST over real HTTP; (status, parsed JSON body) for 2xx and 4xx/5xx alike."""
    headers = {"Content-Type": content_type}
    if api_key is not None:
        headers["x-api-key"] = api_key
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str, *, api_key: str | None = API_KEY, timeout: float = 30.0) -> tuple[int, Any]:
    """GET over real HTTP; (status, parsed JSON body) for 2xx and 4xx/5xx alike."""
    headers = {"x-api-key": api_key} if api_key is not None else {}
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def run_sink(stack: AwsStack) -> None:
    """Move everything in the stream to the landing zone (the real sink, batch mode)."""
    Sink(
        stack.client("kinesis"),
        stack.client("s3"),
        stack.client("dynamodb"),
        stream=stack.stream,
        bucket=stack.bucket,
        table=stack.checkpoint_table,
        config=SinkConfig(buffer_seconds=3600),
    ).run(until_caught_up=True)
