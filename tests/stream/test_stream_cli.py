"""`ecom produce` / `ecom sink` from the command line, and their errors when there is no AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from stream_helpers import landing_rows, valid_events

from aws_fixtures import AwsStack
from ecom.cli import main


def test_produce_then_sink_lands_every_valid_event_of_a_generated_month(
    aws_stack: AwsStack, small_month: list[Path]
) -> None:
    runner = CliRunner()
    folder = str(small_month[0].parent)

    produced = runner.invoke(main, ["produce", folder], catch_exceptions=False)
    sunk = runner.invoke(main, ["sink", "--until-caught-up", "--buffer-mb", "0.1"])

    assert produced.exit_code == 0, produced.output
    expected = valid_events(small_month)
    assert f"read {len(expected):,} · sent {len(expected):,} · rejected 0" in produced.output
    assert "dead-lettered 0" in produced.output
    assert sunk.exit_code == 0, sunk.output
    assert f"events landed {len(expected):,}" in sunk.output
    rows = landing_rows(aws_stack.client("s3"), aws_stack.bucket)
    assert sorted(r["event_id"] for r in rows) == sorted(e.event_id for e in expected)
    truth = json.loads((small_month[0].parent / "_ground_truth.json").read_text())
    assert len({r["event_id"] for r in rows}) == truth["distinct_events"]


def test_commands_have_help() -> None:
    runner = CliRunner()
    for args in (
        ["produce", "--help"],
        ["sink", "--help"],
        ["aws", "--help"],
        ["aws", "up", "--help"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        assert len(result.output.splitlines()) > 6


@pytest.fixture
def no_aws(ecom_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "ECOM_AWS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    from ecom.aws import session

    session.forget()
    return ecom_home


def test_without_any_aws_the_commands_say_what_to_run(
    no_aws: Path, small_month: list[Path]
) -> None:
    runner = CliRunner()
    for args in (["produce", str(small_month[0])], ["sink"], ["aws", "status"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "no AWS to talk to" in result.output
        assert "ecom aws up" in result.output and "AWS_ENDPOINT_URL" in result.output


def test_a_stale_emulator_state_file_is_reported(no_aws: Path) -> None:
    no_aws.mkdir(parents=True, exist_ok=True)
    (no_aws / "aws.json").write_text(
        json.dumps({"endpoint": "http://127.0.0.1:9", "pid": 2**22 + 1})
    )
    result = CliRunner().invoke(main, ["sink"])
    assert result.exit_code == 1
    assert "is not running" in result.output and "ecom aws up" in result.output


def test_buffer_mb_is_in_mib_like_the_sink_default() -> None:
    from ecom.stream.cli import sink_config
    from ecom.stream.sink import SinkConfig

    assert sink_config(5, 500_000, 300.0) == SinkConfig()
    assert sink_config(0.5, 1, 1.0).buffer_bytes == 2**19


def test_stream_run_stops_on_the_first_ctrl_c_aborts_on_the_second_and_restores_sigint() -> None:
    import os
    import signal

    from rich.console import Console

    from ecom.stream.cli import stream_run

    before = signal.getsignal(signal.SIGINT)
    console = Console(record=True, width=200)
    with stream_run(None, follow=True, stopping="stopping soon", console=console) as should_stop:
        assert not should_stop()
        os.kill(os.getpid(), signal.SIGINT)
        assert should_stop()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
    assert "stopping soon" in console.export_text()
    with stream_run(None, follow=False, stopping="", console=console) as should_stop:
        assert signal.getsignal(signal.SIGINT) is before  # batch mode leaves Ctrl-C alone
        assert not should_stop()


def test_stream_run_turns_an_aws_error_into_a_cli_error_naming_the_target() -> None:
    import click
    from botocore.exceptions import ClientError
    from rich.console import Console

    from ecom.stream.cli import stream_run

    class Target:
        def describe(self) -> str:
            return "test target"

    error = ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetRecords")
    with (
        pytest.raises(click.ClickException, match=r"AWS error on the test target: .*GetRecords"),
        stream_run(Target(), follow=False, stopping="", console=Console()),
    ):
        raise error
