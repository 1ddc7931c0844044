"""``ecom load`` on the command line, against a real moto server and a real DuckDB file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from load_helpers import Landing, gzip_csv, landing_rows, make_event, stream_key

from ecom.cli import main


def test_ecom_load_reports_counts_and_a_second_run_loads_nothing(landing: Landing) -> None:
    rows = landing_rows([make_event(i) for i in range(30)])
    rows.append(["0" * 32, *rows[0][1:7], "free", *rows[0][8:]])
    landing.put(stream_key("2019-10-01", "s", 1), gzip_csv(rows))
    runner = CliRunner()

    first = runner.invoke(main, ["load", "--json"])
    second = runner.invoke(main, ["load"])

    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert (report["objects_loaded"], report["read"], report["loaded"], report["rejected"]) == (
        1,
        31,
        30,
        1,
    )
    assert report["rejected_by_reason"] == {"bad_price": 1}
    assert report["quarantine"].startswith("quarantine/load/")
    assert second.exit_code == 0, second.output
    assert "nothing to load: 1 landing objects, all already loaded" in second.output


def test_ecom_load_without_a_bucket_says_what_to_do(
    landing: Landing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOM_BUCKET", "no-such-bucket-here")

    result = CliRunner().invoke(main, ["load"])

    assert result.exit_code == 1
    assert "no-such-bucket-here" in result.output
    assert "Traceback" not in result.output
