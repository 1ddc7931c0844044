"""``python -m ecom.present.app.launch run APP [flags]``: Streamlit's own CLI, after importing the app's modules.

Streamlit imports the app's modules on the first page run, so the first visitor would wait
for pandas, Altair and DuckDB to import; importing them before the server starts moves that
wait to start-up.
"""

from __future__ import annotations


def main() -> None:
    from streamlit.web.cli import main as streamlit_main

    import ecom.present.app.live
    import ecom.present.app.pages  # noqa: F401 - imported for its side effect: warm modules

    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
