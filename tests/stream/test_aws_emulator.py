"""`ecom aws up / status / down`: a detached moto server, its state file, the stack in it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecom.aws import emulator, session
from ecom.cli import main


@pytest.mark.xdist_group("aws-emulator")
def test_up_is_idempotent_deploys_the_template_and_down_stops_it(
    ecom_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ENDPOINT_URL", "ECOM_STACK", "ECOM_AWS", "ECOM_BUCKET", "ECOM_STREAM"):
        monkeypatch.delenv(name, raising=False)
    session.forget()
    runner = CliRunner()
    try:
        first = runner.invoke(main, ["aws", "up", "--shards", "3"], catch_exceptions=False)
        assert first.exit_code == 0, first.output
        state = json.loads((ecom_home / "aws.json").read_text())
        assert state["endpoint"].startswith("http://127.0.0.1:")
        assert emulator.responds(state["endpoint"])
        assert f"export AWS_ENDPOINT_URL={state['endpoint']}" in first.output
        assert "ecom-events" in first.output

        # up again reuses the running server and leaves the stack as it is
        second = runner.invoke(main, ["aws", "up"], catch_exceptions=False)
        assert second.exit_code == 0, second.output
        assert "already running" in second.output
        assert json.loads((ecom_home / "aws.json").read_text())["pid"] == state["pid"]

        # every other command finds it through the state file
        status = runner.invoke(main, ["aws", "status"], catch_exceptions=False)
        assert f"local emulator at {state['endpoint']}" in status.output
        res = session.resources()
        kinesis = session.client("kinesis")
        shards = kinesis.list_shards(StreamName=res.stream)["Shards"]
        assert len(shards) == 3
        assert session.client("dynamodb").describe_table(TableName=res.checkpoint_table)
        session.client("s3").head_bucket(Bucket=res.bucket)
    finally:
        down = runner.invoke(main, ["aws", "down"], catch_exceptions=False)
    assert down.exit_code == 0
    assert f"stopped (pid {state['pid']})" in down.output
    assert not (ecom_home / "aws.json").exists()
    assert not session.pid_alive(state["pid"]) or _zombie(state["pid"])
    assert not emulator.responds(state["endpoint"], timeout=0.5)
    again = runner.invoke(main, ["aws", "down"])
    assert "no AWS emulator was running" in again.output


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return not os.path.exists(f"/proc/{pid}")
