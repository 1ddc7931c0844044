"""Quarantine records: one JSON object per rejected row, the same shape from every stage.

Every quarantine file (``quarantine/<stage>/...jsonl`` in the landing bucket, the local
``load-files`` quarantine) holds one object per line with these keys (docs/contracts.md):

* ``stage``: who rejected the row (``produce``, ``sink``, ``api``, ``realtime``, ``load``,
  ``load-files``, ``backfill``);
* ``source``: where the row was read (a file path, an S3 key, ``kinesis:<stream>``,
  ``request:<request id>``);
* ``line``: its line number in ``source`` (1-based; the index in the request for the API), or
  ``null`` where there is none;
* ``reason``: a stable reason (``ecom.contract.Reason`` and the stage's own);
* ``detail``: the same for a person;
* ``raw``: the row as it was read (invalid UTF-8 as backslash escapes).

A stage may add keys of its own after these (``request_id``, ``sequence_number``, ``load_id``...).
The Spark job writes the same keys without importing this module.
"""

from __future__ import annotations

import json
from typing import Any

FIELDS: tuple[str, ...] = ("stage", "source", "line", "reason", "detail", "raw")


def record(
    stage: str,
    source: str,
    line: int | None,
    reason: str,
    detail: str,
    raw: str | None,
    **context: Any,
) -> dict[str, Any]:
    """One quarantine record: the common keys, then the stage's own ``context``."""
    return {
        "stage": stage,
        "source": source,
        "line": line,
        "reason": reason,
        "detail": detail,
        "raw": raw,
        **context,
    }


def json_line(*args: Any, **context: Any) -> str:
    """:func:`record` as one JSON line (no trailing newline), non-ASCII kept as it is."""
    return json.dumps(record(*args, **context), ensure_ascii=False)
