"""The environment is read in one place (``ecom.settings``), and every variable is documented."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ecom import settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "loaders" / "ecom"
#: Files allowed to touch os.environ, and why. Copies handed to child processes and writes are
#: fine anywhere; reading a variable is not.
NOT_YET: set[str] = set()


def _env_reads(path: Path) -> list[int]:
    """Lines of ``path`` that read a variable: os.environ.get / [...] / in, os.getenv."""
    tree = ast.parse(path.read_text())
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = ast.unparse(node.func)
            if target in ("os.environ.get", "os.getenv", "os.environ.items"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.ctx, ast.Load):
                lines.append(node.lineno)
        elif isinstance(node, ast.Compare) and any(
            ast.unparse(c) == "os.environ" for c in node.comparators
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = {
        str(p.relative_to(PACKAGE)): lines
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.name != "settings.py" and (lines := _env_reads(p))
    }
    assert set(readers) <= NOT_YET, readers


def test_the_configuration_doc_carries_the_generated_table() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert settings.markdown_table() in doc, "regenerate: python -m ecom.settings"


def test_every_variable_of_the_dbt_profiles_is_declared() -> None:
    import re

    profiles = (ROOT / "profiles" / "profiles.yml").read_text()
    used = set(re.findall(r"env_var\(\s*'([A-Z_]+)'", profiles))
    assert used and used <= set(settings.NAMES)


def test_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOM_API_KEY", " a , b ,")
    monkeypatch.setenv("REDSHIFT_PORT", "5440")
    monkeypatch.setenv("ECOM_BUCKET", "")
    first = settings.get()
    assert first.api_key_set() == {"a", "b"} and first.redshift_port == 5440
    assert first.bucket is None  # empty counts as unset
    assert settings.get() is first  # the same environment: read once
    monkeypatch.setenv("ECOM_API_KEYS", "c")  # takes precedence over ECOM_API_KEY
    assert settings.get().api_key_set() == {"c"}
