"""The emulator's own fixes (ecom.aws.moto_patches), on the real moto server over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aws_fixtures import AwsStack


def keyed_table(stack: AwsStack, name: str) -> Any:
    """A new on-demand table ``name`` keyed by the string ``pk``; the DynamoDB client."""
    dynamodb = stack.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


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


def test_a_set_is_sized_as_moto_sizes_it() -> None:
    # given sets of strings (multi-byte ones too), numbers and binary members
    from moto.dynamodb.models.dynamo_type import DynamoType

    from ecom.aws import moto_patches

    def moto_rule(value: DynamoType) -> int:  # moto 5.2's DynamoType.size for sets, verbatim
        sub_type = value.type[0]
        return sum(DynamoType({sub_type: v}).size() for v in value.value)

    sized = moto_patches.set_size(lambda self: -1)
    cases = [
        {"SS": ["a", "bé", "猫猫", "x" * 300]},
        {"SS": []},
        {"NS": ["1", "-2.5", "1E+3", "12345678901234567890"]},
        {"BS": [b"\x00\x01", b"\xff" * 10]},
        {"BS": ["AAEC", "/w=="]},
    ]
    for case in cases:
        value = DynamoType(case)
        # then the one-pass size is moto's rule, member by member
        assert sized(value) == moto_rule(value), case
    # and types other than sets go to the original size
    assert sized(DynamoType({"S": "abc"})) == -1


def test_the_item_size_limit_still_holds_for_sets(aws_stack: AwsStack) -> None:
    # given a table
    dynamodb = keyed_table(aws_stack, "sizes")

    def set_members(kb: int) -> None:
        members = [f"{i:04}" + "é" * 498 for i in range(kb)]  # 1,000 bytes of UTF-8 each
        dynamodb.update_item(
            TableName="sizes",
            Key={"pk": {"S": "k"}},
            UpdateExpression="SET s = :s",
            ExpressionAttributeValues={":s": {"SS": members}},
        )

    # then a 400,000-byte set fits, and a 406,000-byte one is refused with DynamoDB's error
    set_members(400)
    with pytest.raises(ClientError, match="maximum allowed size"):
        set_members(406)
    item = dynamodb.get_item(TableName="sizes", Key={"pk": {"S": "k"}})["Item"]
    assert len(item["s"]["SS"]) == 400


def test_adding_to_a_set_keeps_each_member_once_in_order(aws_stack: AwsStack) -> None:
    # given an item holding a string set
    dynamodb = keyed_table(aws_stack, "sets")
    key = {"pk": {"S": "k"}}

    def add(value: dict[str, list[str]]) -> None:
        dynamodb.update_item(
            TableName="sets",
            Key=key,
            UpdateExpression="ADD s :s",
            ExpressionAttributeValues={":s": value},
        )

    add({"SS": [f"m{i}" for i in range(3_000)]})
    # when members are added, some of them present already
    add({"SS": ["m2999", "new1", "m0", "new2"]})
    # then each member is there once, the new ones after the old, in the order given
    members = dynamodb.get_item(TableName="sets", Key=key)["Item"]["s"]["SS"]
    assert members == [f"m{i}" for i in range(3_000)] + ["new1", "new2"]
    # and adding a set of another type is still refused as DynamoDB refuses it
    with pytest.raises(ClientError, match="operand"):
        add({"NS": ["1"]})


def test_update_expressions_are_still_checked_as_moto_checks_them(aws_stack: AwsStack) -> None:
    # given a table
    dynamodb = keyed_table(aws_stack, "checks")

    def update(expression: str) -> None:
        dynamodb.update_item(
            TableName="checks",
            Key={"pk": {"S": "k"}},
            UpdateExpression=expression,
            ExpressionAttributeValues={":v": {"N": "1"}},
        )

    # then a clause used twice, nested deep in the expression, is refused
    with pytest.raises(ClientError, match='"SET" section can only be used once'):
        update("SET a = :v, b = :v ADD c :v SET d = :v")
    with pytest.raises(ClientError, match='"ADD" section can only be used once'):
        update("ADD a :v SET b = :v, c = :v ADD d :v")
    # and overlapping paths too; a valid expression of the same shape is applied
    with pytest.raises(ClientError, match="overlap"):
        update("SET a = :v, b = :v, a = :v")
    update("SET a = :v, b = :v ADD c :v")
    item = dynamodb.get_item(TableName="checks", Key={"pk": {"S": "k"}})["Item"]
    assert item == {"pk": {"S": "k"}, "a": {"N": "1"}, "b": {"N": "1"}, "c": {"N": "1"}}


def test_an_expressions_tree_is_copied_as_deepcopy_copies_it() -> None:
    # given the trees moto's parser makes of update expressions of every kind
    import copy

    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    from ecom.aws import moto_patches

    def shape(node: Any, parent: Any = None) -> Any:
        """The tree as nested tuples, each node's parent checked on the way."""
        if not isinstance(node, Node):
            return ("value", type(node).__name__, node)
        assert node.parent is parent
        children = node.children
        if isinstance(children, list):
            children = [shape(c, node) for c in children]
        return (type(node).__name__, node.type, sorted(node.__dict__), children)

    clone = moto_patches.clone_tree(copy.deepcopy)
    expressions = [
        "SET #c = :c, #v = :v, #s = :s, #f = :f, #x = :x ADD #e :e, #a :a",
        "SET a.b[2].c = if_not_exists(a.b[2].c, :zero) + :one, l = list_append(l, :new)",
        "REMOVE a[1], b.c DELETE s :members SET n = n - :v",
        "SET #name = :v ADD counter :n REMOVE old",
    ]
    for text in expressions:
        tree = UpdateExpressionParser.make(text)
        copied = clone(tree)
        # then the copy has the same shape, node by node, with parents of its own
        assert shape(copied) == shape(tree) == shape(copy.deepcopy(tree)), text
        nodes = [copied]
        while nodes:
            node = nodes.pop()
            assert all(node is not original for original in _walk(tree))
            nodes.extend(c for c in node.children or [] if isinstance(c, Node))
    # and a tree that is not a parser's whole tree (a subtree) goes to deepcopy
    calls: list[Any] = []
    subtree = UpdateExpressionParser.make("SET a = :v").children[0]
    moto_patches.clone_tree(lambda x: calls.append(x) or x)(subtree)
    assert calls == [subtree]


def _walk(node: Any) -> list[Any]:
    from moto.dynamodb.parsing.ast_nodes import Node

    out = [node]
    for c in node.children or []:
        if isinstance(c, Node):
            out.extend(_walk(c))
    return out


def test_updates_of_every_kind_apply_as_dynamodb_applies_them(aws_stack: AwsStack) -> None:
    # given a table, and updates run twice with other values (a parsed expression is reused)
    dynamodb = keyed_table(aws_stack, "kinds")
    key = {"pk": {"S": "k"}}

    def update(expression: str, values: dict[str, Any], **names: str) -> None:
        extra = {"ExpressionAttributeNames": names} if names else {}
        dynamodb.update_item(
            TableName="kinds",
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
            **extra,
        )

    first = "SET n = if_not_exists(n, :zero) + :one, l = list_append(if_not_exists(l, :empty), :new), m = :m ADD s :members"
    update(first, {":zero": {"N": "0"}, ":one": {"N": "2"}, ":empty": {"L": []},
                   ":new": {"L": [{"S": "a"}]}, ":m": {"M": {"x": {"L": [{"N": "1"}, {"N": "2"}]}}},
                   ":members": {"SS": ["p", "q"]}})  # fmt: skip
    update(first, {":zero": {"N": "0"}, ":one": {"N": "3"}, ":empty": {"L": []},
                   ":new": {"L": [{"S": "b"}]}, ":m": {"M": {"x": {"L": [{"N": "7"}]}}},
                   ":members": {"SS": ["q", "r"]}})  # fmt: skip
    update("SET m.x[0] = m.x[0] - :v, #n = :name REMOVE l[0] DELETE s :gone",
           {":v": {"N": "2"}, ":name": {"S": "kinds"}, ":gone": {"SS": ["p"]}}, **{"#n": "name"})  # fmt: skip
    # then the item is what DynamoDB's rules give, step by step
    item = dynamodb.get_item(TableName="kinds", Key=key)["Item"]
    assert item == {
        "pk": {"S": "k"},
        "n": {"N": "5"},
        "l": {"L": [{"S": "b"}]},
        "m": {"M": {"x": {"L": [{"N": "5"}]}}},
        "s": {"SS": ["q", "r"]},
        "name": {"S": "kinds"},
    }
    # and an expression refused once is refused again (an error is never cached as a tree)
    for _ in range(2):
        with pytest.raises(ClientError, match="overlap"):
            update("SET a = :v, a = :v", {":v": {"N": "1"}})
