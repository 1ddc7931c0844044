"""The emulator's own fixes (ecom.aws.moto_patches), on the real moto server over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from aws_fixtures import AwsStack


def test_records_put_at_once_by_many_clients_are_all_kept(aws_stack: AwsStack) -> None:
    # given 8 clients putting 40 calls of 10 records each to the same shard at the same time
    clients = [aws_stack.client("kinesis") for _ in range(8)]

    def put(n: int) -> list[str]:
        sequence_numbers = []
        for call in range(40):
            records = [
                {"Data": f"{n}-{call}-{i}".encode(), "PartitionKey": "k", "ExplicitHashKey": "1"}
                for i in range(10)
            ]
            resp = clients[n].put_records(StreamName=aws_stack.stream, Records=records)
            assert resp["FailedRecordCount"] == 0
            sequence_numbers += [r["SequenceNumber"] for r in resp["Records"]]
        return sequence_numbers

    with ThreadPoolExecutor(8) as pool:
        acknowledged = [seq for seqs in pool.map(put, range(8)) for seq in seqs]
    # then every acknowledged record has its own sequence number and is in the shard
    kinesis = clients[0]
    shard = kinesis.list_shards(StreamName=aws_stack.stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=aws_stack.stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    data: list[bytes] = []
    while True:
        resp = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        data += [r["Data"] for r in resp["Records"]]
        if not resp["Records"]:
            break
        iterator = resp["NextShardIterator"]
    assert len(set(acknowledged)) == len(acknowledged) == 3_200
    assert len(data) == len(set(data)) == 3_200
