"""The `ecom` command line: help for every stage, and the stages run through it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ecom.cli import main

STAGES = ("generate", "profile", "load-files", "dbt")


def test_help_lists_every_stage() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for stage in STAGES:
        assert stage in result.output


def test_every_subcommand_has_help() -> None:
    for stage in STAGES[:-1]:
        result = CliRunner().invoke(main, [stage, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage: main " + stage in result.output or "Usage:" in result.output
        assert len(result.output.splitlines()) > 4


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
