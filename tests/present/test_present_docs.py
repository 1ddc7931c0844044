"""`ecom docs serve`: the dbt docs site on 127.0.0.1 shows a mart's columns, checked in Debian's chromium."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import pytest
from present_helpers import Warehouse

from ecom.present.docs import DocsError, docs_server, serve_in_thread, url_of

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("present")]


@pytest.fixture
def docs_url(marts_warehouse: Warehouse) -> Any:
    server = docs_server(marts_warehouse.target_dir, port=0)
    serve_in_thread(server)
    yield url_of(server)
    server.shutdown()
    server.server_close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_docs_site_shows_the_columns_of_fct_sessions(
    docs_url: str, marts_warehouse: Warehouse, browser: Any, artifacts: Path
) -> None:
    # given the columns the warehouse has for the mart
    con = duckdb.connect(str(marts_warehouse.db_path), read_only=True)
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_sessions' order by ordinal_position"
        ).fetchall()
    ]
    con.close()
    assert "session_id" in columns and "is_converted" in columns
    # when chromium opens the mart's page of the docs site, fetching only from 127.0.0.1
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page_errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))

    def guard(route: Any) -> None:
        if route.request.url.startswith(docs_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(docs_url + "#!/model/model.ecom.fct_sessions")
    page.wait_for_selector("text=session_started_at", timeout=30_000)
    page.screenshot(path=str(artifacts / "docs-fct_sessions.png"))
    # then the page names the model and lists every one of its columns
    assert page.locator("h1", has_text="fct_sessions").count() >= 1
    shown = page.inner_text("body")
    missing = [c for c in columns if c not in shown]
    assert missing == [], f"columns not on the page: {missing}"
    assert "This model is not currently documented" not in shown  # issue 5: every model documented
    assert page_errors == []
    assert outside == []
    page.close()


def test_the_docs_site_shows_the_semantic_layer_metrics(
    docs_url: str, browser: Any, artifacts: Path
) -> None:
    # when chromium opens a metric's page of the docs site
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(docs_url + "#!/metric/metric.ecom.churn_rate")
    page.wait_for_selector("text=Churned customers / customers", timeout=30_000)
    page.screenshot(path=str(artifacts / "docs-metric-churn_rate.png"))
    # then it shows the metric with its name, DAX measure and inputs ...
    assert page.locator("h1", has_text="Churn rate").count() >= 1
    shown = page.inner_text("body")
    assert "churn_rate" in shown and "Churn Rate" in shown and "churned_customer_count" in shown
    # ... and the sidebar lists the other metrics by their labels, and the semantic models
    for label in ("Revenue", "Orders", "Units", "Buyers", "Sessions"):
        assert label in shown, label
    assert "Semantic Models" in shown
    page.close()


def test_only_the_docs_files_are_served(docs_url: str) -> None:
    assert _status(docs_url) == 200
    assert _status(docs_url + "manifest.json") == 200
    assert _status(docs_url + "catalog.json") == 200
    assert _status(docs_url + "run_results.json") == 404
    assert _status(docs_url + "compiled/ecom/models/marts/sessions/fct_sessions.sql") == 404
    assert _status(docs_url + "../../etc/passwd") == 404


def test_serving_an_ungenerated_folder_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(DocsError, match="ecom dbt docs generate"):
        docs_server(tmp_path, port=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_cli_serves_on_loopback(marts_warehouse: Warehouse) -> None:
    port = _free_port()
    ecom = Path(sys.executable).with_name("ecom")
    process = subprocess.Popen(
        [
            str(ecom),
            "docs",
            "serve",
            "--no-generate",
            "--port",
            str(port),
            "--target-path",
            str(marts_warehouse.target_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                if _status(url + "catalog.json") == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "ecom docs serve did not answer within 30 s"
            time.sleep(0.3)
        assert process.stdout is not None
        assert process.stdout.readline().strip().startswith(f"dbt docs site: {url}")
    finally:
        process.terminate()
        process.wait(timeout=10)
