"""`ecom export`: every mart as a Parquet file with the mart's rows and columns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from present_helpers import Warehouse

from ecom.cli import main
from ecom.present.export import export_marts
from ecom.present.marts import MissingMartError

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("present")]


def test_every_mart_is_exported_with_its_rows_and_columns(
    marts_warehouse: Warehouse, tmp_path: Path
) -> None:
    exported = export_marts(tmp_path / "parquet", db_path=marts_warehouse.db_path)
    con = duckdb.connect(str(marts_warehouse.db_path), read_only=True)
    marts = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
    ]
    assert [m.name for m in exported] == marts
    assert {"fct_sessions", "fct_orders", "customer_rfm", "dim_date"} <= set(marts)
    for mart in exported:
        expected = con.execute(f'select * from marts."{mart.name}" order by all').fetchall()
        got = con.execute(f"select * from read_parquet('{mart.path}') order by all").fetchall()
        assert got == expected, mart.name
        assert mart.rows == len(expected)
        names = [
            r[0]
            for r in con.execute(f"describe select * from read_parquet('{mart.path}')").fetchall()
        ]
        assert names == [r[0] for r in con.execute(f'describe marts."{mart.name}"').fetchall()]
    con.close()
    assert sorted(p.name for p in (tmp_path / "parquet").iterdir()) == sorted(
        f"{m}.parquet" for m in marts
    )


def test_named_marts_only_and_unknown_names(marts_warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "some"
    result = CliRunner().invoke(
        main,
        [
            "export",
            "fct_orders",
            "dim_date",
            "--out",
            str(out),
            "--duckdb",
            str(marts_warehouse.db_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["dim_date.parquet", "fct_orders.parquet"]
    assert "2 marts written" in result.output
    with pytest.raises(MissingMartError, match="no mart named fct_nope"):
        export_marts(out, db_path=marts_warehouse.db_path, only=("fct_nope",))
