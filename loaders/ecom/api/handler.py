"""The ingestion Lambda: API Gateway (REST, proxy integration) events in, proxy responses out.

``GET /metrics/...`` answers the live KPIs of the stream processor (:mod:`ecom.api.metrics`).

``POST /events`` takes one event, a JSON array of events or NDJSON (see
:mod:`ecom.api.payload`), validates every event with the contract's validator and
puts the valid ones into the Kinesis stream through the stream producer
(:class:`ecom.stream.producer.Producer`: PutRecords batching, packing by shard,
entry-level retries, dead letters). It answers only after the PutRecords calls
have been acknowledged, so a 200 means "in the stream".

=====  ==================================================================
200    every event accepted (per-event results with ``event_id``)
207    some accepted, some rejected or failed (a reason for each of those)
400    nothing accepted: a reason per rejected event (or one for the body)
401    no ``x-api-key`` header (when the app checks keys itself)
403    an ``x-api-key`` that is not a valid key
404    unknown path; 405 wrong method; 413 body or batch too large;
415    neither JSON nor NDJSON
503    the stream refused every valid event after all retries (they are in
       ``deadletter/producer/``); 500 is a bug, never an answer to bad input
=====  ==================================================================

Rejected events are written to ``quarantine/api/dt=<date>/<request id>.jsonl`` with
their reason, detail and raw JSON.

In AWS, API Gateway checks the API key (usage plan) before the Lambda runs; the local
server (``ecom api serve``) has no gateway, so there the app checks keys itself
(``ApiConfig.api_keys``). Lambda entry point: ``ecom.api.handler.handler``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import logging
import queue
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecom import quarantine
from ecom.api import payload
from ecom.api.openapi import openapi_document
from ecom.events import Event, Rejection
from ecom.stream.producer import DEFAULT_PACK_BYTES, Producer, RetryPolicy, StreamNotFound

log = logging.getLogger("ecom.api")

QUARANTINE_PREFIX = "quarantine/api"
#: An HTTP request waits for its PutRecords calls: bounded retries, at most
#: ``API_RETRY.max_total_delay()`` = 1.55 s of backoff in all, because the Kinesis client
#: below makes no retries of its own (botocore's would stack on these: its standard mode
#: retries a throttled call up to 3 times with its own backoff, inside each of the 6).
API_RETRY = RetryPolicy(max_attempts=6, base_delay=0.05, max_delay=1.6)
_REQUEST_ID = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class ApiConfig:
    stream: str
    bucket: str
    #: Valid API keys, checked by the app; ``None`` when API Gateway checks them (AWS).
    api_keys: frozenset[str] | None = None
    max_body_bytes: int = payload.MAX_BODY_BYTES
    max_events: int = payload.MAX_EVENTS
    pack_bytes: int = DEFAULT_PACK_BYTES
    retry: RetryPolicy = field(default_factory=lambda: API_RETRY)
    #: The stream processor's table, for GET /metrics/... ("" : those routes answer 503).
    metrics_table: str = ""


def _response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body),
    }


def _error(
    status: int,
    reason: str,
    detail: str,
    request_id: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {"request_id": request_id, "error": reason, "detail": detail, **extra}
    return _response(status, body, headers)


class IngestApp:
    """The handler's logic, bound to clients and a configuration (thread-safe)."""

    def __init__(self, kinesis: Any, s3: Any, config: ApiConfig, dynamodb: Any = None) -> None:
        self.kinesis = kinesis
        self.s3 = s3
        self.config = config
        self.dynamodb = dynamodb
        self._producers: queue.SimpleQueue[Producer] = queue.SimpleQueue()

    # -- plumbing --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _producer(self) -> Iterator[Producer]:
        """A producer for this request (one per concurrent request, reused afterwards)."""
        try:
            producer = self._producers.get_nowait()
        except queue.Empty:
            producer = Producer(
                self.kinesis,
                self.config.stream,
                s3=self.s3,
                bucket=self.config.bucket,
                pack_bytes=self.config.pack_bytes,
                retry=self.config.retry,
            )
        yield producer
        # Only reached when the request went through: a producer that raised mid-request
        # may hold a half-sent buffer and is dropped.
        self._producers.put(producer)

    # -- the proxy handler -----------------------------------------------------------------------

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        ctx = event.get("requestContext") or {}
        request_id = _REQUEST_ID.sub("-", str(ctx.get("requestId") or uuid.uuid4()))[:64]
        try:
            return self._route(event, request_id)
        except StreamNotFound as exc:
            log.error("request %s: %s", request_id, exc)
            return _error(503, "stream_unavailable", str(exc), request_id)
        except Exception:  # a bug or an AWS outage: never leak details, always answer
            log.exception("request %s failed", request_id)
            return _error(500, "internal_error", "the request could not be processed", request_id)

    def _route(self, event: dict[str, Any], request_id: str) -> dict[str, Any]:
        method = str(event.get("httpMethod") or "").upper()
        path = str(event.get("path") or "/").rstrip("/") or "/"
        if path == "/openapi.json":
            if method != "GET":
                return _error(
                    405, "method_not_allowed", "use GET", request_id, headers={"Allow": "GET"}
                )
            return _response(200, openapi_document())
        if path == "/health":
            return _response(200, {"status": "ok", "stream": self.config.stream})
        if path == "/metrics" or path.startswith("/metrics/"):
            return self._get_metrics(event, path, method, request_id)
        if path != "/events":
            return _error(
                404, "not_found", f"no resource at {path[:200]!r}; POST /events", request_id
            )
        if method != "POST":
            return _error(
                405, "method_not_allowed", "use POST /events", request_id, headers={"Allow": "POST"}
            )
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        denied = self._check_key(headers.get("x-api-key"), request_id)
        if denied is not None:
            return denied
        return self._post_events(event, headers, request_id)

    def _get_metrics(
        self, event: dict[str, Any], path: str, method: str, request_id: str
    ) -> dict[str, Any]:
        from ecom.api import metrics
        from ecom.realtime.query import MetricsReader, QueryError

        def error(
            status: int, code: str, reason: str, headers: dict[str, str] | None = None
        ) -> dict[str, Any]:
            body = {"request_id": request_id, "error": code, "reason": reason, "detail": reason}
            return _response(status, body, headers)

        if method != "GET":
            return error(
                405, "method_not_allowed", f"use GET {path[:100]}", headers={"Allow": "GET"}
            )
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        denied = self._check_key(headers.get("x-api-key"), request_id)
        if denied is not None:
            body = json.loads(denied["body"])
            return error(denied["statusCode"], body["error"], body["detail"])
        if path not in metrics.ROUTES:
            routes = ", ".join(metrics.ROUTES)
            return error(404, "not_found", f"no metrics at {path[:200]!r}; GET one of {routes}")
        if self.dynamodb is None or not self.config.metrics_table:
            return error(503, "metrics_unavailable", "no metrics table is configured")
        params = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
        try:
            body = metrics.answer(
                MetricsReader(self.dynamodb, self.config.metrics_table), path, params
            )
        except QueryError as exc:
            return error(400, exc.reason, exc.detail)
        return _response(200, body, {"Cache-Control": "no-store"})

    def _check_key(self, key: str | None, request_id: str) -> dict[str, Any] | None:
        keys = self.config.api_keys
        if keys is None:
            return None
        if not key:
            return _error(
                401, "missing_api_key", "send the API key in the x-api-key header", request_id
            )
        if not any(hmac.compare_digest(key.encode(), k.encode()) for k in keys):
            return _error(
                403, "invalid_api_key", "the x-api-key header is not a valid key", request_id
            )
        return None

    def _body(self, event: dict[str, Any]) -> bytes:
        body = event.get("body")
        if body is None:
            return b""
        if event.get("isBase64Encoded"):
            try:
                return base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise payload.BodyError(
                    400, "invalid_base64", f"the body is not base64: {exc}"
                ) from None
        return str(body).encode("utf-8", errors="surrogatepass")

    def _post_events(
        self, event: dict[str, Any], headers: dict[str, str], request_id: str
    ) -> dict[str, Any]:
        try:
            body = self._body(event)
            if len(body) > self.config.max_body_bytes:
                raise payload.BodyError(
                    413,
                    "body_too_large",
                    f"the body has {len(body):,} bytes (limit {self.config.max_body_bytes:,}); "
                    "split the batch",
                )
            items = payload.parse_body(
                body, headers.get("content-type"), max_events=self.config.max_events
            )
        except payload.BodyError as exc:
            quarantined = None
            if exc.status == 400:  # unreadable bodies are kept; 413/415 are transport refusals
                quarantined = self._quarantine(
                    request_id, [Rejection(exc.reason, exc.detail, exc.raw, None)]
                )
            extra: dict[str, Any] = {"accepted": 0, "rejected": 0, "results": []}
            if quarantined:
                extra["quarantine"] = quarantined
            return _error(exc.status, exc.reason, exc.detail, request_id, **extra)

        accepted = [it for it in items if isinstance(it.outcome, Event)]
        rejected = [it for it in items if isinstance(it.outcome, Rejection)]
        failed_ids = self._put([it.outcome for it in accepted])  # type: ignore[misc]
        quarantine_key = self._quarantine(request_id, [it.outcome for it in rejected])  # type: ignore[misc]

        results: list[dict[str, Any]] = []
        n_ok = n_failed = 0
        for it in items:
            outcome = it.outcome
            if isinstance(outcome, Event):
                if outcome.event_id in failed_ids:
                    n_failed += 1
                    results.append(
                        {
                            "index": it.index,
                            "status": "failed",
                            "event_id": outcome.event_id,
                            "reason": "kinesis_put_failed",
                            "detail": "the stream refused the event after every retry; "
                            "it was kept in deadletter/producer/",
                        }
                    )
                else:
                    n_ok += 1
                    results.append(
                        {"index": it.index, "status": "accepted", "event_id": outcome.event_id}
                    )
            else:
                results.append(
                    {
                        "index": it.index,
                        "status": "rejected",
                        "reason": outcome.reason,
                        "detail": outcome.detail,
                    }
                )
        if n_ok == len(items):
            status = 200
        elif n_ok:
            status = 207
        elif n_failed:
            status = 503
        else:
            status = 400
        body_out: dict[str, Any] = {
            "request_id": request_id,
            "accepted": n_ok,
            "rejected": len(rejected),
            "failed": n_failed,
            "results": results,
        }
        if quarantine_key:
            body_out["quarantine"] = quarantine_key
        if status == 400:
            body_out["error"] = "no_valid_events"
            body_out["detail"] = "every event was rejected; see results[].reason"
        return _response(status, body_out, {"Retry-After": "1"} if status == 503 else None)

    def _put(self, events: list[Event]) -> set[str]:
        """Put ``events`` into the stream; the ids of those dead-lettered after every retry."""
        if not events:
            return set()
        with self._producer() as producer:
            before = len(producer.stats.deadletter_keys)
            producer.put_many(events)
            producer.flush()
            new_keys = producer.stats.deadletter_keys[before:]
        failed: set[str] = set()
        for key in new_keys:  # rare: read back which events the producer dead-lettered
            text = self.s3.get_object(Bucket=self.config.bucket, Key=key)["Body"].read().decode()
            failed.update(
                str(json.loads(line).get("event_id")) for line in text.splitlines() if line
            )
        return failed

    def _quarantine(self, request_id: str, rejections: list[Rejection]) -> str | None:
        if not rejections:
            return None
        now = datetime.now(UTC)
        key = f"{QUARANTINE_PREFIX}/dt={now:%Y-%m-%d}/{request_id}.jsonl"
        lines = [
            quarantine.json_line(
                "api",
                f"request:{request_id}",
                r.line_no,  # the event's index in the request
                r.reason,
                r.detail,
                r.raw,
                request_id=request_id,
                received_at=now.isoformat(timespec="milliseconds"),
            )
            for r in rejections
        ]
        body = ("\n".join(lines) + "\n").encode("utf-8", errors="backslashreplace")
        self.s3.put_object(
            Bucket=self.config.bucket, Key=key, Body=body, ContentType="application/x-ndjson"
        )
        return key


# -- Lambda entry point ------------------------------------------------------------------------

_app: IngestApp | None = None


def api_keys_from_env() -> frozenset[str] | None:
    """``ECOM_API_KEYS`` (comma-separated) or ``ECOM_API_KEY``; ``None`` when neither is set."""
    from ecom import settings

    return settings.get().api_key_set()


def app_from_environment() -> IngestApp:
    """Build the app as the Lambda runs it: names from ``ECOM_STREAM`` / ``ECOM_BUCKET``.

    Without them (e.g. locally) the names come from the deployed stack's outputs.
    """
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32)
    # the producer retries PutRecords itself (API_RETRY): no second layer of retries under it
    put_config = config.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
    from ecom import settings

    env = settings.get()
    stream, bucket, metrics_table = env.stream, env.bucket, env.metrics_table or ""
    if stream and bucket:
        kinesis = boto3.client("kinesis", config=put_config)
        s3 = boto3.client("s3", config=config)
        dynamodb = boto3.client("dynamodb", config=config)
    else:
        from ecom.aws import session

        t = session.target()
        res = session.resources(t)
        stream, bucket = res.stream, res.bucket
        kinesis = session.client("kinesis", config=put_config, target_=t)
        s3 = session.client("s3", config=config, target_=t)
        dynamodb = session.client("dynamodb", config=config, target_=t)
        metrics_table = metrics_table or res.metrics_table
    api_config = ApiConfig(
        stream=stream, bucket=bucket, api_keys=api_keys_from_env(), metrics_table=metrics_table
    )
    return IngestApp(kinesis, s3, api_config, dynamodb)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point (``Handler: ecom.api.handler.handler``)."""
    global _app
    if _app is None:
        started = time.perf_counter()
        _app = app_from_environment()
        log.info("ingest app ready in %.0f ms", (time.perf_counter() - started) * 1000)
    return _app(event, context)
