"""PowerBI assets: the .pbids file, the DAX measures and the star schema hold against a built warehouse."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from present_helpers import Warehouse

from ecom.warehouse import PROJECT_ROOT

pytestmark = [pytest.mark.xdist_group("present")]

POWERBI = PROJECT_ROOT / "powerbi"
MEASURE = re.compile(r"MEASURE\s+(\w+)\[([^\]]+)\]\s*=(.*?)(?=\n\s*MEASURE\s|\nEVALUATE|\Z)", re.S)
TABLE_REF = re.compile(r"\b(\w+)\[([^\]]+)\]")
BARE_REF = re.compile(r"(?<![\w\]])\[([^\]]+)\]")
RELATIONSHIP = re.compile(
    r"^\| (\w+)\[(\w+)\] \| (\w+)\[(\w+)\] \| (many-to-one|one-to-one) \| (yes|no)", re.M
)


def _columns(warehouse: Warehouse) -> dict[str, list[str]]:
    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
    ).fetchall()
    con.close()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def _measures() -> list[tuple[str, str, str]]:
    text = re.sub(r"//[^\n]*", "", (POWERBI / "measures.dax").read_text())
    return [(t, n, body) for t, n, body in MEASURE.findall(text)]


def test_the_pbids_file_points_at_the_redshift_warehouse() -> None:
    pbids = json.loads((POWERBI / "ecom-redshift.pbids").read_text())
    assert pbids["version"] == "0.1"
    (connection,) = pbids["connections"]
    assert connection["details"]["protocol"] == "amazon-redshift"
    assert connection["details"]["address"]["server"].endswith(".redshift.amazonaws.com:5439")
    assert connection["details"]["address"]["database"]
    assert connection["mode"] in {"Import", "DirectQuery"}
    m_query = (POWERBI / "redshift_marts.pq").read_text()
    assert "AmazonRedshift.Database(" in m_query and '[Name = "marts"]' in m_query


def test_every_dax_measure_reads_columns_the_marts_have(marts_warehouse: Warehouse) -> None:
    columns = _columns(marts_warehouse)
    measures = _measures()
    defined = {name for _table, name, _body in measures}
    assert len(measures) >= 15 and len(defined) == len(measures), "measure names must be unique"
    for table, name, body in measures:
        assert table in columns, f"[{name}] sits on {table}, which is not a mart"
        # PowerBI rejects a measure named like a column of its table (names are case-insensitive)
        assert name.lower() not in {c.lower() for c in columns[table]}, f"{table}[{name}] clashes"
        for ref_table, ref in TABLE_REF.findall(body):
            assert ref_table in columns, f"[{name}] reads {ref_table}, not a mart"
            assert ref in columns[ref_table], f"[{name}] reads {ref_table}[{ref}], not a column"
        for ref in BARE_REF.findall(TABLE_REF.sub("", body)):
            assert ref in defined, f"[{name}] uses [{ref}], which is not a defined measure"
    for wanted in (
        "Total Revenue",
        "Order Count",
        "Average Order Value",
        "Session Conversion Rate",
        "View to Cart Rate",
        "Cart to Purchase Rate",
        "Cart Abandonment Rate",
        "RFM Segment Share",
    ):
        assert wanted in defined


def test_the_measures_are_documented() -> None:
    guide = (PROJECT_ROOT / "docs" / "powerbi.md").read_text()
    missing = [name for _table, name, _body in _measures() if f"[{name}]" not in guide]
    assert missing == []


def test_the_star_schema_relationships_hold_on_the_data(marts_warehouse: Warehouse) -> None:
    doc = (POWERBI / "star_schema.md").read_text()
    relationships = RELATIONSHIP.findall(doc)
    assert len(relationships) >= 12
    columns = _columns(marts_warehouse)
    documented_tables = set(re.findall(r"^\| `(\w+)` \|", doc, re.M))
    assert documented_tables == set(columns), "star_schema.md must list exactly the marts"
    con = duckdb.connect(str(marts_warehouse.db_path), read_only=True)
    for from_table, from_col, to_table, to_col, cardinality, _active in relationships:
        assert from_col in columns[from_table] and to_col in columns[to_table]
        # the one side is unique and never null
        dupes, nulls = con.execute(
            f"select count(*) - count(distinct {to_col}), count(*) filter (where {to_col} is null) "
            f"from marts.{to_table}"
        ).fetchone()  # type: ignore[misc]
        assert (dupes, nulls) == (0, 0), f"{to_table}[{to_col}] is not a key"
        if cardinality == "one-to-one":
            (from_dupes,) = con.execute(
                f"select count({from_col}) - count(distinct {from_col}) from marts.{from_table}"
            ).fetchone()  # type: ignore[misc]
            assert from_dupes == 0, f"{from_table}[{from_col}] repeats: not one-to-one"
        # every value of the many side finds its row
        (orphans,) = con.execute(
            f"select count(*) from marts.{from_table} as f where f.{from_col} is not null and not exists "
            f"(select 1 from marts.{to_table} as t where t.{to_col} = f.{from_col})"
        ).fetchone()  # type: ignore[misc]
        assert orphans == 0, f"{orphans} rows of {from_table}[{from_col}] miss {to_table}[{to_col}]"
    con.close()
