"""The `ecom` command line: help for every stage, and the stages run through it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ecom.cli import main

STAGES = ("generate", "profile", "load-files", "dbt")


def test_help_lists_every_stage() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for stage in STAGES:
        assert stage in result.output


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command under ``group``, as the words that invoke it (nested groups included)."""
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        found.append((*path, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*path, name)))
    return found


def test_every_subcommand_has_help() -> None:
    commands = _commands(main)
    assert {(s,) for s in STAGES} <= set(commands)
    for words in commands:
        result = CliRunner().invoke(main, [*words, "--help"])
        assert result.exit_code == 0, (words, result.output)
        # click names the command it is describing: a missing subcommand would print main's help
        assert result.output.startswith("Usage: main " + " ".join(words) + " "), words
        command = main
        for word in words:
            command = command.commands[word]  # type: ignore[attr-defined]
        summary = (command.help or command.short_help or "").strip()
        assert summary, f"ecom {' '.join(words)} has no help text"
        assert summary.split()[0] in result.output, words


def test_console_script_is_installed() -> None:
    ecom = Path(sys.executable).with_name("ecom")
    result = subprocess.run([str(ecom), "--version"], capture_output=True, text=True, check=True)
    assert "ecom" in result.stdout


def test_generate_then_profile_check(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "events"
    result = runner.invoke(
        main, ["generate", "--out", str(out), "--events", "120000", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "2019-Oct.csv").exists()
    assert "ground truth" in result.output
    checked = runner.invoke(main, ["profile", str(out), "--check", "--json"])
    assert checked.exit_code == 0, checked.output
    payload = json.loads(checked.stdout)
    assert payload["check"]["problems"] == []


def test_bad_arguments_get_clear_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "--out", str(tmp_path), "--start", "2019-13-01"])
    assert result.exit_code == 2
    assert "is not a date" in result.output
    result = runner.invoke(
        main, ["generate", "--out", str(tmp_path), "--events", "5", "--events-per-day", "5"]
    )
    assert result.exit_code == 2
    assert "not both" in result.output


def test_a_library_error_becomes_a_one_line_message_and_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ecom.aws.session raises AwsNotConfigured (an ecom.errors.EcomError, no click in it):
    # only the ecom group turns it into click's "Error: ..." line and exit code 1
    from ecom.aws.session import AwsNotConfigured
    from ecom.errors import EcomError

    assert issubclass(AwsNotConfigured, EcomError) and not issubclass(
        AwsNotConfigured, click.ClickException
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "ECOM_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECOM_HOME", str(tmp_path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = CliRunner().invoke(main, ["load"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.startswith("Error: no AWS to talk to")
