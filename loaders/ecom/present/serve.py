"""``ecom dashboard serve``: the Streamlit app on 127.0.0.1, private and read-only.

Streamlit runs with flags that keep it local: it listens on 127.0.0.1 only, sends no
usage statistics, opens no browser, watches no files, and shows no error details in the
browser (the server's log has them). The app reads the warehouse read-only, one short
connection per page run, so `ecom dbt build` can write it while the app is up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).with_name("app") / "streamlit_app.py"
HOST = "127.0.0.1"
#: Environment this command hands to the app: the warehouse file and the metrics API.
ENV_DB = "ECOM_DUCKDB_PATH"
ENV_API_URL = "ECOM_DASHBOARD_API_URL"

#: Streamlit options (`streamlit run --help` names them); every one keeps the app local and quiet.
FLAGS = {
    "server.address": HOST,
    "server.headless": "true",
    "server.showEmailPrompt": "false",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "browser.gatherUsageStats": "false",
    "browser.serverAddress": HOST,
    "client.showErrorDetails": "none",
    "client.toolbarMode": "minimal",
    "global.developmentMode": "false",
    "logger.level": "info",
    "theme.base": "light",
}


def command(port: int) -> list[str]:
    flags = [f"--{name}={value}" for name, value in {**FLAGS, "server.port": str(port)}.items()]
    return [sys.executable, "-m", "ecom.present.app.launch", "run", str(APP), *flags]


def environment(db_path: Path | None, api_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if db_path is not None:
        env[ENV_DB] = str(db_path.resolve())
    if api_url:
        env[ENV_API_URL] = api_url
    # the app's own home for Streamlit's files, so no user config changes how it runs
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    return env


def run(port: int, db_path: Path | None = None, api_url: str | None = None) -> None:
    """Become the Streamlit server (exec: Ctrl-C and SIGTERM reach it directly, no orphan)."""
    sys.stdout.flush()
    args = command(port)
    os.execve(args[0], args, environment(db_path, api_url))


def url(port: int) -> str:
    return f"http://{HOST}:{port}/"
