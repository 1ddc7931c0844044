"""Spark batch backfill: historic REES46 CSV -> validated, date-partitioned Parquet.

Runs two ways with the same code:

* on a cluster: ``spark-submit --py-files loaders/ecom/contract.py spark/backfill.py
  --input s3a://raw/2019-Oct.csv --root s3a://bucket`` (see ``docs/backfill.md`` for the s3a
  settings);
* locally: ``ecom backfill FILES --root DIR`` imports this module and calls :func:`run_backfill`
  with a ``local[*]`` session.

It depends on PySpark, the standard library and ``loaders/ecom/contract.py`` (itself standard
library only), so a cluster needs nothing but this file and that one.

**The rules are the event contract declared in ``loaders/ecom/contract.py``**, applied as Spark
column expressions (same order of checks, same rejection reasons, same ``event_id``). The
field names, event types, limits, patterns and reasons are read from that module, not
copied: where the ``ecom`` package is installed it is imported from there, on a cluster
``--py-files`` puts the file on the driver's path as the module ``contract``. The executors
need neither (the one Python UDF uses ``csv`` only). ``tests/test_contract.py`` runs this
job and every other implementation on the same case corpus.

The CSV is read as *text lines* (``lineSep`` = LF, as Python's line iterator), not through
Spark's CSV reader with a schema: Spark's CSV parser differs from Python's ``csv`` module on
quoting, CR handling and malformed rows, so parity would not be exact. Each line is split
on commas in the JVM; the rare line containing a double quote goes to a small Python UDF
that uses the very same ``csv.reader`` as the Python parser. The typed output schema
(int64 ids, ``decimal(10,2)`` price, ``timestamp`` without time zone) is applied after
validation with ``try_cast``.

Outputs, under ``--root`` (a local directory or a bucket such as ``s3a://bucket``):

* ``landing/events/source=backfill/event_date=YYYY-MM-DD/part-NNNNN.parquet``: accepted rows,
  columns ``event_id, event_time, event_type, product_id, category_id, category_code, brand,
  price, user_id, user_session, ingested_at, source``;
* ``quarantine/backfill/<input file name>.jsonl``: rejected rows, one JSON object per line
  with ``stage, source, line, reason, detail, raw`` (the quarantine schema of every stage,
  ``loaders/ecom/quarantine.py``; ``source`` is the input file).

Idempotence: the job writes into a staging folder, then replaces each event date's folder
and each input's quarantine file with deterministically named files. Rerunning the same
input gives the same objects with the same content (``ingested_at`` is the input file's
modification time, not the wall clock).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame, Observation, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

try:  # the project's environment (``ecom backfill``, the tests): the installed package
    from ecom import contract
except ModuleNotFoundError:
    import contract  # on a cluster: spark-submit --py-files loaders/ecom/contract.py ...

Reason = contract.Reason

#: Where accepted rows and rejected rows go, relative to the root.
LANDING_PREFIX = "landing/events/source=backfill"
QUARANTINE_PREFIX = "quarantine/backfill"
STAGING_PREFIX = "_tmp"
SOURCE = "backfill"

#: Columns of every landing Parquet file, in order (docs/contracts.md; the same as
#: ecom.load.landing.LANDING_COLUMNS).
OUTPUT_COLUMNS: tuple[str, ...] = ("event_id", *contract.HEADER, "ingested_at", "source")

#: Spark settings the job relies on; ``build_session`` sets them, a cluster gets them from here too.
JOB_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    # Parquet timestamps as INT64 microseconds (Redshift COPY, DuckDB and Arrow read them).
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # One input file per scan partition (never two small files packed together): the first
    # line of a file is then the first row of the partition whose split starts at byte 0.
    "spark.sql.files.openCostInBytes": str(2**40),
}

# ASCII whitespace as Python's bytes.strip() sees it.
_WS_CHARS = " \t\n\r\x0b\x0c"
_ROW_BITS = 33  # monotonically_increasing_id() = partition index << 33 | row index


def _whole_value(pattern: str) -> str:
    """A contract pattern as a Java regex for ``rlike`` (which searches), matching whole values."""
    return f"^(?:{pattern})\\z"


_TIME_RE = _whole_value(contract.TIME_PATTERN)
_ID_RE = _whole_value(contract.ID_PATTERN)
_PRICE_RE = _whole_value(contract.PRICE_PATTERN)


class BackfillError(Exception):
    """The backfill cannot run (no input, clashing input names, ...)."""


@dataclass
class BackfillReport:
    """What one run read and wrote. ``read == accepted + rejected`` always holds."""

    inputs: list[str]
    root: str
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    files_without_header: list[str] = field(default_factory=list)
    event_dates: list[str] = field(default_factory=list)
    parquet_files: list[str] = field(default_factory=list)
    quarantine_files: list[str] = field(default_factory=list)
    written_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- session ----------------------------------------------------------------------------------


def build_session(
    master: str | None = "local[*]",
    *,
    app_name: str = "ecom-backfill",
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """A SparkSession with the job's settings; ``master=None`` leaves it to spark-submit."""
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    for key, value in {**JOB_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def apply_job_conf(spark: SparkSession) -> None:
    """Set the runtime settings the job relies on (for a session built elsewhere)."""
    for key, value in JOB_CONF.items():
        spark.conf.set(key, value)


# -- reading ----------------------------------------------------------------------------------


def read_lines(spark: SparkSession, inputs: Sequence[str]) -> DataFrame:
    """Every physical line of the inputs, with its file, split and position.

    Columns: ``value`` (the line without LF/CR, raw bytes kept), ``file``, ``mtime``,
    ``block_start`` (byte offset of the scan split), ``row_in_split`` (0-based) and
    ``is_first`` (line 1 of its file).
    """
    apply_job_conf(spark)
    raw = spark.read.option("lineSep", "\n").text(list(inputs))
    rid = F.monotonically_increasing_id()
    lines = raw.select(
        F.col("value"),
        F.col("_metadata.file_path").alias("file"),
        F.col("_metadata.file_modification_time").alias("mtime"),
        F.col("_metadata.file_block_start").alias("block_start"),
        rid.bitwiseAND(F.lit((1 << _ROW_BITS) - 1)).alias("row_in_split"),
    )
    is_first = (F.col("block_start") == 0) & (F.col("row_in_split") == 0)
    value = F.col("value")
    # Hadoop's line reader already drops a UTF-8 BOM at the start of a file (as iter_lines does);
    # drop a trailing CR (CRLF files) byte-wise so invalid UTF-8 bytes survive untouched.
    value = F.when(
        F.endswith(value, F.lit("\r")),
        F.expr("cast(substring(cast(value as binary), 1, octet_length(value) - 1) as string)"),
    ).otherwise(value)
    return lines.select(
        value.alias("value"),
        "file",
        "mtime",
        "block_start",
        "row_in_split",
        is_first.alias("is_first"),
    )


# -- validating -------------------------------------------------------------------------------


def _field(i: int) -> Column:
    return F.col(f"f_{contract.HEADER[i]}")


def _py_repr(col: Column) -> Column:
    """Python's repr() of a plain string (no quote, backslash or control character in it)."""
    return F.concat(F.lit("'"), col, F.lit("'"))


def _valid_id(col: Column) -> Column:
    # try_cast gives null on overflow: a null must count as invalid, not fall through the CASE.
    return F.coalesce(col.rlike(_ID_RE) & (col.try_cast("bigint") > 0), F.lit(False))


def validate(lines: DataFrame) -> DataFrame:
    """Apply the event contract to the lines of :func:`read_lines`.

    Header (line 1 equal to the REES46 header) and blank lines are dropped, as the Python reader
    does. Every other line comes out once, with ``reason`` null (accepted: the typed event
    columns are set) or a rejection ``reason`` and ``detail``.
    """
    stripped = F.btrim(F.col("value"), F.lit(_WS_CHARS))
    blank = stripped == F.lit("")
    header = F.col("is_first") & (stripped == F.lit(contract.HEADER_LINE))
    rows = lines.where(~blank & ~header).withColumn(
        "header_missing", F.col("is_first")
    )  # a data row as line 1: this file has no header
    valid_utf8 = F.is_valid_utf8(F.col("value"))
    quoted = valid_utf8 & F.col("value").contains('"')

    def split_on_worker(line: str) -> list[str] | None:
        # A nested function is pickled by value: the executors need not import this module.
        try:
            return next(csv.reader([line]), [])
        except csv.Error:
            return None

    split_udf = F.udf(split_on_worker, T.ArrayType(T.StringType()), useArrow=False)
    # Only the quoted rows go through Python (a UDF inside a CASE would see every row).
    plain = rows.where(~quoted).withColumn("fields", F.split(F.col("value"), ",", -1))
    with_quotes = rows.where(quoted).withColumn("fields", split_udf(F.col("value")))
    rows = plain.unionByName(with_quotes)
    rows = rows.select(
        "*",
        valid_utf8.alias("valid_utf8"),
        *[
            F.try_element_at(F.col("fields"), F.lit(i + 1)).alias(f"f_{h}")
            for i, h in enumerate(contract.HEADER)
        ],
    )

    n_fields = F.size(F.col("fields"))
    # A line of at most 255 bytes cannot hold a longer field: only long lines are measured.
    long_line = F.octet_length(F.col("value")) > contract.MAX_FIELD_CHARS
    lengths = F.array(*[F.char_length(_field(i)) for i in range(9)])
    too_long_at = F.when(
        long_line,
        F.array_position(F.transform(lengths, lambda n: n > contract.MAX_FIELD_CHARS), True),
    ).otherwise(F.lit(0))
    names = F.array(*[F.lit(h) for h in contract.HEADER])
    (t, etype, product, category, code, brand, price, user, session) = (_field(i) for i in range(9))
    time_ok = t.rlike(_TIME_RE)
    # The regex guarantees ASCII digits: check the calendar with integer arithmetic
    # (a date parser per row is several times slower).
    year, month, day = (F.substring(t, a, n).cast("int") for a, n in ((1, 4), (6, 2), (9, 2)))
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days_in_month = (
        F.when(month == 2, F.when(leap, 29).otherwise(28))
        .when(month.isin(4, 6, 9, 11), 30)
        .otherwise(31)
    )
    date_ok = (
        (year >= contract.MIN_YEAR) & month.between(1, 12) & day.between(F.lit(1), days_in_month)
    )
    type_ok = etype.isin(*contract.EVENT_TYPES)
    price_ok = price.rlike(_PRICE_RE)
    # a control character anywhere in the line is rare: only then are the fields searched
    has_control = F.col("value").rlike(contract.CONTROL_CLASS)
    code_control = has_control & code.rlike(contract.CONTROL_CLASS)
    brand_control = has_control & brand.rlike(contract.CONTROL_CLASS)
    session_control = has_control & session.rlike(contract.CONTROL_CLASS)

    reason = (
        F.when(~F.col("valid_utf8"), F.lit(Reason.INVALID_UTF8))
        .when(F.col("fields").isNull() | (n_fields != 9), F.lit(Reason.WRONG_FIELD_COUNT))
        .when(too_long_at > 0, F.lit(Reason.FIELD_TOO_LONG))
        .when(~time_ok | ~date_ok, F.lit(Reason.BAD_EVENT_TIME))
        .when(~type_ok, F.lit(Reason.UNKNOWN_EVENT_TYPE))
        .when(~_valid_id(product), F.lit(Reason.BAD_PRODUCT_ID))
        .when(~_valid_id(category), F.lit(Reason.BAD_CATEGORY_ID))
        .when(code_control | brand_control, F.lit(Reason.CONTROL_CHARACTER))
        .when(~price_ok, F.lit(Reason.BAD_PRICE))
        .when(~_valid_id(user), F.lit(Reason.BAD_USER_ID))
        .when(session_control, F.lit(Reason.CONTROL_CHARACTER))
    )
    detail = (
        F.when(~F.col("valid_utf8"), F.lit("invalid UTF-8"))
        .when(F.col("fields").isNull(), F.lit("the line's quoting cannot be split"))
        .when(
            n_fields != 9,
            F.format_string("expected 9 fields, got %d", n_fields),
        )
        .when(
            too_long_at > 0,
            F.format_string(
                "%s has %d characters (limit %d)",
                F.element_at(names, too_long_at.cast("int")),
                F.element_at(lengths, too_long_at.cast("int")),
                F.lit(contract.MAX_FIELD_CHARS),
            ),
        )
        .when(
            ~time_ok,
            F.concat(F.lit("event_time "), _py_repr(t), F.lit(" is not 'YYYY-MM-DD HH:MM:SS UTC'")),
        )
        .when(~date_ok, F.concat(F.lit("event_time "), _py_repr(t), F.lit(" is not a real date")))
        .when(
            ~type_ok,
            F.concat(
                F.lit("event_type "),
                _py_repr(etype),
                F.lit(" is not one of " + ", ".join(contract.EVENT_TYPES)),
            ),
        )
        .when(
            ~_valid_id(product),
            F.concat(
                F.lit("product_id "), _py_repr(product), F.lit(" is not a positive 64-bit integer")
            ),
        )
        .when(
            ~_valid_id(category),
            F.concat(
                F.lit("category_id "),
                _py_repr(category),
                F.lit(" is not a positive 64-bit integer"),
            ),
        )
        .when(code_control, F.lit(contract.control_detail("category_code")))
        .when(brand_control, F.lit(contract.control_detail("brand")))
        .when(
            ~price_ok,
            F.concat(
                F.lit("price "), _py_repr(price), F.lit(" is not a decimal with at most 2 decimals")
            ),
        )
        .when(
            ~_valid_id(user),
            F.concat(F.lit("user_id "), _py_repr(user), F.lit(" is not a positive 64-bit integer")),
        )
        .when(session_control, F.lit(contract.control_detail("user_session")))
    )

    product_id = product.try_cast("bigint")
    category_id = category.try_cast("bigint")
    user_id = user.try_cast("bigint")
    price_dec = price.try_cast("decimal(10,2)")
    time_text = F.substring(t, 1, 19)
    event_id = F.md5(
        F.concat_ws(
            contract.KEY_SEPARATOR,
            time_text,
            etype,
            product_id.cast("string"),
            category_id.cast("string"),
            code,
            brand,
            price_dec.cast("string"),
            user_id.cast("string"),
            session,
        )
    )
    # The reason is computed once (a column of its own) and then referenced, not inlined.
    rows = rows.select("*", reason.alias("reason"))
    accepted = F.col("reason").isNull()

    def when_ok(col: Column) -> Column:
        return F.when(accepted, col)

    return rows.select(
        "file",
        "mtime",
        "block_start",
        "row_in_split",
        "header_missing",
        F.make_valid_utf8(F.col("value")).alias("raw"),
        "reason",
        F.when(~accepted, detail).alias("detail"),
        when_ok(event_id).alias("event_id"),
        when_ok(time_text.cast("timestamp_ntz")).alias("event_time"),
        when_ok(etype).alias("event_type"),
        when_ok(product_id).alias("product_id"),
        when_ok(category_id).alias("category_id"),
        when_ok(F.nullif(code, F.lit(""))).alias("category_code"),
        when_ok(F.nullif(brand, F.lit(""))).alias("brand"),
        when_ok(price_dec).alias("price"),
        when_ok(user_id).alias("user_id"),
        when_ok(F.nullif(session, F.lit(""))).alias("user_session"),
        when_ok(F.col("mtime").cast("timestamp_ntz")).alias("ingested_at"),
        F.lit(SOURCE).alias("source"),
        when_ok(F.substring(t, 1, 10)).alias("event_date"),
    )


# -- writing ----------------------------------------------------------------------------------


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts)])


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class HadoopFs:
    """The few file-system calls the publish step needs, through Hadoop's FileSystem API.

    The same calls work on local paths, ``hdfs://`` and ``s3a://`` (where a rename is a copy).
    """

    def __init__(self, spark: SparkSession) -> None:
        jvm = spark.sparkContext._jvm
        if jvm is None:
            raise BackfillError("the backfill needs classic (non-Connect) Spark")
        self._path = jvm.org.apache.hadoop.fs.Path
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        self._checksum_fs = jvm.java.lang.Class.forName("org.apache.hadoop.fs.ChecksumFileSystem")

    def _fs(self, path: str) -> Any:
        fs = self._path(path).getFileSystem(self._conf)
        # Local paths: move files without their .crc side files.
        return fs.getRawFileSystem() if self._checksum_fs.isInstance(fs) else fs

    def exists(self, path: str) -> bool:
        return bool(self._fs(path).exists(self._path(path)))

    def list(self, path: str, *, dirs: bool) -> list[str]:
        """Names (not paths) of the directories or files directly under ``path``, sorted."""
        if not self.exists(path):
            return []
        statuses = self._fs(path).listStatus(self._path(path))
        return sorted(s.getPath().getName() for s in statuses if bool(s.isDirectory()) == dirs)

    def delete(self, path: str, *, recursive: bool = True) -> None:
        self._fs(path).delete(self._path(path), recursive)

    def move(self, src: str, dst: str) -> None:
        fs = self._fs(dst)
        fs.mkdirs(self._path(dst).getParent())
        if not fs.rename(self._path(src), self._path(dst)):
            raise BackfillError(f"could not move {src} to {dst}")


def _observed_metrics() -> list[Column]:
    accepted = F.col("reason").isNull()
    return [
        F.count(F.lit(1)).alias("read"),
        F.count_if(accepted).alias("accepted"),
        *[F.count_if(F.col("reason") == r).alias(r) for r in Reason.ALL],
        F.collect_set(F.when(F.col("header_missing"), F.col("file"))).alias("no_header"),
    ]


def _input_index(inputs: Sequence[str]) -> Column:
    """The position (1-based) of a row's file among the inputs, matched on the file name."""
    names = F.array(*[F.lit(_basename(i)) for i in inputs])
    name = F.url_decode(F.element_at(F.split(F.col("file"), "/"), -1))
    return F.array_position(names, name).cast("int")


def _quarantine_rows(validated: DataFrame, lines: DataFrame, inputs: Sequence[str]) -> DataFrame:
    """Rejected rows with their 1-based line number, sorted by input and line."""
    per_split = lines.groupBy("file", "block_start").count()
    before = (
        Window.partitionBy("file").orderBy("block_start").rowsBetween(Window.unboundedPreceding, -1)
    )
    offsets = per_split.select(
        "file", "block_start", F.coalesce(F.sum("count").over(before), F.lit(0)).alias("offset")
    )
    index = _input_index(inputs)
    return (
        validated.where(F.col("reason").isNotNull())
        .join(F.broadcast(offsets), ["file", "block_start"])
        .select(
            index.alias("input"),
            F.lit("backfill").alias("stage"),
            F.element_at(F.array(*[F.lit(i) for i in inputs]), index).alias("source"),
            (F.col("offset") + F.col("row_in_split") + 1).alias("line"),
            "reason",
            "detail",
            "raw",
        )
        .repartition(1)
        .sortWithinPartitions("input", "line")
    )


def run_backfill(
    spark: SparkSession,
    inputs: Sequence[str],
    root: str,
    *,
    progress: Callable[[str], None] | None = None,
) -> BackfillReport:
    """Validate ``inputs`` (REES46 CSV files) and publish Parquet and quarantine under ``root``.

    Raises :class:`BackfillError` for unusable arguments or if the rows written do not
    reconcile with the rows accepted.
    """
    say = progress or (lambda _msg: None)
    inputs = list(inputs)
    if not inputs:
        raise BackfillError("no input files given")
    names = [_basename(i) for i in inputs]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise BackfillError(
            "input file names must be unique (they name the quarantine files): "
            + ", ".join(clashes)
        )
    fs = HadoopFs(spark)
    staging = _join(root, STAGING_PREFIX, f"backfill-{uuid.uuid4().hex}")
    report = BackfillReport(inputs=inputs, root=root)
    try:
        lines = read_lines(spark, inputs)
        validated = validate(lines)
        observation = Observation("backfill")
        observed = validated.observe(observation, *_observed_metrics())
        say(f"validating {len(inputs)} file(s) and writing Parquet to staging")
        (
            observed.where(F.col("reason").isNull())
            .select(*OUTPUT_COLUMNS, "event_date")
            .write.mode("overwrite")
            .partitionBy("event_date")
            .parquet(_join(staging, "events"))
        )
        metrics = observation.get
        report.read = int(metrics["read"])
        report.accepted = int(metrics["accepted"])
        report.rejected_by_reason = {r: int(metrics[r]) for r in Reason.ALL if metrics[r]}
        report.rejected = sum(report.rejected_by_reason.values())
        report.files_without_header = sorted(metrics["no_header"])
        if report.rejected:
            say(f"writing {report.rejected:,} rejected row(s) with line numbers to staging")
            (
                _quarantine_rows(validated, lines, inputs)
                .write.mode("overwrite")
                .partitionBy("input")
                .json(_join(staging, "quarantine"))
            )
        say("publishing (replacing each event date's partition)")
        _publish(fs, staging, root, names, report)
    finally:
        fs.delete(staging)
    if report.parquet_files:
        report.written_rows = spark.read.parquet(*report.parquet_files).count()
    if report.read != report.accepted + report.rejected or report.written_rows != report.accepted:
        raise BackfillError(
            f"counts do not reconcile: read {report.read:,}, accepted {report.accepted:,}, "
            f"rejected {report.rejected:,}, rows in the Parquet written {report.written_rows:,}"
        )
    return report


def _publish(
    fs: HadoopFs, staging: str, root: str, names: list[str], report: BackfillReport
) -> None:
    events = _join(staging, "events")
    for part_dir in fs.list(events, dirs=True):
        if not part_dir.startswith("event_date="):
            continue
        target = _join(root, LANDING_PREFIX, part_dir)
        fs.delete(target)
        parts = [n for n in fs.list(_join(events, part_dir), dirs=False) if n.startswith("part-")]
        for i, name in enumerate(parts):
            dst = _join(target, f"part-{i:05d}.parquet")
            fs.move(_join(events, part_dir, name), dst)
            report.parquet_files.append(dst)
        report.event_dates.append(part_dir.removeprefix("event_date="))
    quarantine = _join(staging, "quarantine")
    for index, name in enumerate(names, start=1):
        target = _join(root, QUARANTINE_PREFIX, f"{name}.jsonl")
        fs.delete(target, recursive=False)
        staged = _join(quarantine, f"input={index}")
        parts = [n for n in fs.list(staged, dirs=False) if n.startswith("part-")]
        if len(parts) > 1:  # pragma: no cover - repartition(1) writes one file
            raise BackfillError(f"expected one quarantine file for {name}, got {len(parts)}")
        for part in parts:
            fs.move(_join(staged, part), target)
            report.quarantine_files.append(target)


# -- spark-submit entry point -----------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spark-submit --py-files loaders/ecom/contract.py spark/backfill.py",
        description="Backfill historic REES46 CSV into the landing zone as date-partitioned Parquet.",
    )
    parser.add_argument(
        "--input",
        action="append",
        required=True,
        help="a REES46 CSV file (s3a://, hdfs:// or local); repeat for several files",
    )
    parser.add_argument(
        "--root",
        required=True,
        help="landing-zone root, e.g. s3a://my-bucket (landing/ and quarantine/ go under it)",
    )
    parser.add_argument("--master", default=None, help="Spark master (default: spark-submit's)")
    args = parser.parse_args(argv)
    spark = build_session(args.master)
    try:
        report = run_backfill(
            spark, args.input, args.root, progress=lambda m: print(m, file=sys.stderr)
        )
    except BackfillError as exc:
        print(f"backfill failed: {exc}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    print(json.dumps(report.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
