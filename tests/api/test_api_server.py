"""The local server over real HTTP, and `ecom api serve` as a process, against a real moto server."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from api_helpers import API_KEY, json_event, post, run_sink
from test_api_handler import landing_rows

from aws_fixtures import AwsStack
from ecom.api.server import GATEWAY_MAX_BODY_BYTES


def test_events_posted_over_http_land_in_the_landing_zone(
    api_url: str, aws_stack: AwsStack
) -> None:
    status, body = post(
        f"{api_url}/events", json.dumps([json_event(), json_event(event_type="view")]).encode()
    )
    assert status == 200, body
    ndjson = "\n".join(json.dumps(json_event(product_id=p)) for p in (1, 2, 3)).encode()
    status, body2 = post(f"{api_url}/events", ndjson, content_type="application/x-ndjson")
    assert status == 200, body2
    posted = {r["event_id"] for r in body["results"] + body2["results"]}
    assert len(posted) == 5
    run_sink(aws_stack)
    assert {r["event_id"] for r in landing_rows(aws_stack)} == posted


def test_http_errors_are_4xx_with_a_reason(api_url: str) -> None:
    assert post(f"{api_url}/events", b"[]", api_key=None)[0] == 401
    status, body = post(f"{api_url}/events", b"{", api_key=API_KEY)
    assert (status, body["error"]) == (400, "invalid_json")
    # a body above the gateway limit is refused from its Content-Length, without being read
    host = urlsplit(api_url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    conn.putrequest("POST", "/events")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("x-api-key", API_KEY)
    conn.putheader("Content-Length", str(GATEWAY_MAX_BODY_BYTES + 1))
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 413
    assert json.loads(resp.read())["error"] == "body_too_large"
    conn.close()
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    conn.request(
        "POST", "/events", body=b"{}", headers={"Content-Length": "nope", "x-api-key": API_KEY}
    )
    assert conn.getresponse().status == 400
    conn.close()


def test_openapi_document_is_served(api_url: str) -> None:
    conn = http.client.HTTPConnection(
        urlsplit(api_url).hostname, urlsplit(api_url).port, timeout=10
    )
    conn.request("GET", "/openapi.json")
    resp = conn.getresponse()
    doc = json.loads(resp.read())
    assert resp.status == 200
    assert doc["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"]
    assert doc["components"]["securitySchemes"]["apiKey"]["name"] == "x-api-key"


def _start_serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecom.cli", "api", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("serving on ") or not line:
            break
    if not line.startswith("serving on "):
        proc.kill()
        raise AssertionError(
            f"ecom api serve did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc, line.split()[-1]


def test_ecom_api_serve_and_the_readme_curl_put_events_into_the_landing_zone(
    aws_stack: AwsStack, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "ECOM_API_KEY": "readme-key",
        "COLUMNS": "200",
    }
    proc, url = _start_serve(env)
    try:
        assert url.startswith("http://127.0.0.1:")
        event = json.dumps(json_event())
        if shutil.which("curl"):
            # the README's example, verbatim apart from the port
            result = subprocess.run(
                [
                    "curl", "-sS", "-X", "POST", f"{url}/events",
                    "-H", "x-api-key: readme-key",
                    "-H", "Content-Type: application/json",
                    "-d", event,
                ],
                capture_output=True, text=True, timeout=30, check=True,
            )  # fmt: skip
            answer = json.loads(result.stdout)
        else:
            answer = post(f"{url}/events", event.encode(), api_key="readme-key")[1]
        assert answer["accepted"] == 1, answer
        assert post(f"{url}/events", event.encode(), api_key="wrong")[0] == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    run_sink(aws_stack)
    assert [r["event_id"] for r in landing_rows(aws_stack)] == [answer["results"][0]["event_id"]]


def test_ecom_api_serve_without_a_key_generates_one(aws_stack: AwsStack) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ECOM_API_KEY", "ECOM_API_KEYS")}
    proc, url = _start_serve(env)
    try:
        assert post(f"{url}/events", json.dumps(json_event()).encode(), api_key=None)[0] == 401
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "export ECOM_API_KEY=" in err


@pytest.mark.parametrize("missing", ["stack"])
def test_ecom_api_serve_without_aws_says_what_to_run(missing: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECOM_"))}
    env.update({"ECOM_HOME": str(tmp_path), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"})  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "ecom.cli", "api", "serve", "--port", "0"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode != 0
    assert "ecom aws up" in result.stderr
