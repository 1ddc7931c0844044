"""Bad input through the producer: each case gets a clear note or a quarantined row with its
reason, the run goes on, and read = sent + rejected + dead-lettered."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from stream_helpers import jsonl, landing_rows, valid_events

from aws_fixtures import AwsStack
from ecom import quarantine
from ecom.events import HEADER_LINE
from ecom.stream.produce import produce_files
from ecom.stream.producer import Producer
from ecom.stream.sink import Sink, SinkConfig
from stream_data import FAST_RETRY

GOOD = [
    "2019-10-01 00:00:00 UTC,view,5802432,1487580009286598681,,,0.32,562076640,09fafd6c-6c99-46b1-834f-33527f4de241",
    "2019-10-01 00:00:03 UTC,cart,5844397,1487580006317032337,,,2.38,553329724,2067216c-31b5-455d-a1cc-af0575a34ffb",
    "2019-10-01 00:00:07 UTC,purchase,5837166,1783999064103190764,,pnb,22.22,556138645,57ed222e-a54a-4907-9944-5a875c2d7f4f",
]
BAD = {
    "bad_price": "2019-10-01 00:00:09 UTC,view,5802432,1487580009286598681,,,cheap,562076640,s1",
    "wrong_field_count": "2019-10-01 00:00:09 UTC,view,5802432",
    "bad_event_time": "2019-13-01 00:00:09 UTC,view,5802432,1487580009286598681,,,1.00,562076640,s1",
    "unknown_event_type": "2019-10-01 00:00:09 UTC,click,5802432,1487580009286598681,,,1.00,562076640,s1",
}


def write(path: Path, lines: list[str], *, eol: str = "\n", prefix: bytes = b"") -> Path:
    path.write_bytes(prefix + "".join(line + eol for line in lines).encode("utf-8"))
    return path


def test_bad_input_is_quarantined_and_counts_reconcile(aws_stack: AwsStack, tmp_path: Path) -> None:
    huge_brand = "b" * (2**20 + 10)  # a row over 1 MiB: more than Kinesis takes in one record
    huge = (
        f"2019-10-01 00:00:11 UTC,view,5802432,1487580009286598681,,{huge_brand},1.00,562076640,s2"
    )
    files = [
        write(tmp_path / "malformed.csv", [HEADER_LINE, GOOD[0], *BAD.values(), GOOD[1]]),
        write(tmp_path / "huge.csv", [HEADER_LINE, huge, GOOD[2]]),
        write(tmp_path / "empty.csv", []),
        write(tmp_path / "noheader.csv", GOOD[:2]),
        write(tmp_path / "crlf.csv", [HEADER_LINE, *GOOD], eol="\r\n"),
        write(tmp_path / "bom.csv", [HEADER_LINE, *GOOD], prefix=b"\xef\xbb\xbf"),
    ]
    invalid_utf8 = tmp_path / "latin1.csv"
    invalid_utf8.write_bytes(
        (HEADER_LINE + "\n" + GOOD[0] + "\n").encode()
        + GOOD[1].replace(",,,", ",,Caf\xe9,").encode("latin-1")
        + b"\n"
    )
    files.append(invalid_utf8)
    s3 = aws_stack.client("s3")
    producer = Producer(
        aws_stack.client("kinesis"),
        aws_stack.stream,
        s3=s3,
        bucket=aws_stack.bucket,
        retry=FAST_RETRY,
    )

    report = produce_files(files, producer, s3=s3, bucket=aws_stack.bucket)

    # counts reconcile, every bad row counted under its reason
    assert report.files == len(files)
    assert report.read == 6 + 2 + 0 + 2 + 3 + 3 + 2
    assert report.read == report.sent + report.rejected + report.dead_lettered
    assert report.dead_lettered == 0
    assert report.rejected_by_reason == Counter(
        {**dict.fromkeys(BAD, 1), "field_too_long": 1, "invalid_utf8": 1}
    )
    assert report.sent == len(valid_events(files)) == 12
    # file-level problems get a clear note
    notes = "\n".join(report.notes)
    assert "empty.csv: empty file" in notes
    assert "noheader.csv: no REES46 header line" in notes
    assert "malformed.csv: 4 invalid rows quarantined" in notes
    # every rejected row is in quarantine with its reason, line and raw text
    quarantined = jsonl(s3, aws_stack.bucket, "quarantine/produce/")
    reasons = Counter(q["reason"] for q in quarantined)
    assert reasons == report.rejected_by_reason + Counter({"empty_file": 1})
    too_long = next(q for q in quarantined if q["reason"] == "field_too_long")
    assert too_long["line"] == 2 and too_long["raw"] == huge and "brand" in too_long["detail"]
    assert next(q for q in quarantined if q["reason"] == "invalid_utf8")["line"] == 3
    # in the one quarantine schema of every stage
    assert all(tuple(q)[:6] == quarantine.FIELDS and q["stage"] == "produce" for q in quarantined)
    assert {Path(q["source"]).name for q in quarantined} >= {"malformed.csv", "empty.csv"}

    # the valid rows land; CRLF and BOM files give the same event_ids as plain ones
    Sink(
        aws_stack.client("kinesis"),
        s3,
        aws_stack.client("dynamodb"),
        stream=aws_stack.stream,
        bucket=aws_stack.bucket,
        table=aws_stack.checkpoint_table,
        config=SinkConfig(),
    ).run()
    landed = Counter(r["event_id"] for r in landing_rows(s3, aws_stack.bucket))
    assert landed == Counter(e.event_id for e in valid_events(files))
    plain = {
        e.event_id for e in valid_events([write(tmp_path / "plain.csv", [HEADER_LINE, *GOOD])])
    }
    assert {e.event_id for e in valid_events([files[4]])} == plain
    assert {e.event_id for e in valid_events([files[5]])} == plain


def test_producing_the_same_file_twice_rewrites_the_same_quarantine_object(
    aws_stack: AwsStack, tmp_path: Path
) -> None:
    path = write(tmp_path / "malformed.csv", [HEADER_LINE, GOOD[0], *BAD.values()])
    s3 = aws_stack.client("s3")
    for _ in range(2):
        producer = Producer(
            aws_stack.client("kinesis"), aws_stack.stream, s3=s3, bucket=aws_stack.bucket
        )
        report = produce_files([path], producer, s3=s3, bucket=aws_stack.bucket)
        assert report.rejected == len(BAD)
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=aws_stack.bucket, Prefix="quarantine/")["Contents"]
    ]
    assert len(keys) == 1 and keys[0].startswith("quarantine/produce/malformed.csv-")
    assert len(jsonl(s3, aws_stack.bucket, "quarantine/")) == len(BAD)


def test_a_record_over_one_mib_is_dead_lettered_not_sent(aws_stack: AwsStack) -> None:
    # an Event built by a caller that skipped validation (the producer is a library too)
    from ecom.events import Event

    giant = Event("0" * 32, "2019-10-01 00:00:00", "view", 1, 2, None, "x" * 2**20, "1.00", 3, "s")
    s3 = aws_stack.client("s3")
    producer = Producer(
        aws_stack.client("kinesis"), aws_stack.stream, s3=s3, bucket=aws_stack.bucket, pack_bytes=0
    )
    producer.put(giant)
    stats = producer.close()
    assert (stats.accepted, stats.sent, stats.dead_lettered, stats.calls) == (1, 0, 1, 0)
    [letter] = jsonl(s3, aws_stack.bucket, "deadletter/producer/")
    assert letter["error_code"] == "RecordTooLarge" and letter["event_id"] == "0" * 32
