"""Three fixes to the emulator (moto 5.2), applied wherever the project runs a moto server.

moto's ``TransactWriteItems`` keeps a rollback copy by deep-copying the *whole table* once
per item of the transaction, so a 90-item transaction on a table of a few thousand items
copies the table 90 times (seconds per call; the stream processor writes its KPIs with such
transactions). :func:`apply` replaces it with the same algorithm that keeps a copy of each
item the transaction touches instead, and puts those back on rollback. What a client sees
is unchanged: the same validations, the same conditions evaluated in the same order, the
same ``TransactionCanceledException`` with one reason per item, all or nothing.

moto also checks an update expression for overlapping paths once per node of its (nested)
action list, each time over the whole subtree: quadratic in the clauses of one expression.
The check now runs once, on the outermost node, which sees every action: the same
expressions are refused with the same error.

moto's Kinesis ``Shard.put_record`` numbers a record "max + 1" without a lock (its source says
it is not safe for concurrency), and the server answers requests in threads: two PutRecords
calls at once can give two records the same sequence number, and the second overwrites the
first although both were acknowledged. Records are now numbered one at a time.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_applied = False


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import get_filter_expression as filter_expression
    from moto.dynamodb.models.dynamo_type import DynamoType

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    originals: list[tuple[str, dict[str, Any], Any]] = []  # (table, key, item before or None)
    target_items: set[tuple[str, str]] = set()

    def rollback() -> None:
        for table_name, key, before in reversed(originals):
            table = self.get_table(table_name)
            hash_value = key[table.hash_key_attr]
            range_value = key.get(table.range_key_attr) if table.range_key_attr else None
            h = DynamoType(hash_value)
            r = DynamoType(range_value) if range_value is not None else None
            if before is None:
                table.delete_item(h, r)
            elif table.range_key_attr is not None:
                table.items[h][r] = before
            else:
                table.items[h] = before

    errors: list[tuple[Any, Any, Any]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in target_items:
                raise MultipleTransactionsException()
            target_items.add(unique)
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = filter_expression(condition_expression, names, values)
                if not condition_op.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                originals.append((table_name, key, copy.deepcopy(current)))
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # as moto does: any other failure cancels the transaction
            errors.append((type(e).__name__, str(e), original_item))
    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)


def apply() -> None:
    """Patch moto's DynamoDB and Kinesis backends in this process (idempotent)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]

    from moto.dynamodb.parsing.ast_nodes import UpdateExpression  # type: ignore[attr-defined]
    from moto.dynamodb.parsing.validators import OverlappingPathsValidator

    check = OverlappingPathsValidator.check_for_overlapping_paths

    def outermost_only(self: Any, node: Any) -> Any:
        if isinstance(getattr(node, "parent", None), UpdateExpression):
            return node  # checked with every other action by the outermost node
        return check(self, node)

    OverlappingPathsValidator.check_for_overlapping_paths = outermost_only  # type: ignore[method-assign]

    from moto.kinesis.models import Shard

    put_record = Shard.put_record
    numbering = threading.Lock()

    def put_record_serially(self: Any, *args: Any, **kwargs: Any) -> Any:
        with numbering:
            return put_record(self, *args, **kwargs)

    Shard.put_record = put_record_serially  # type: ignore[method-assign]
    _applied = True


def main() -> None:
    """``python -m ecom.aws.moto_patches <moto.server arguments>``: a patched moto server."""
    apply()
    from moto.server import main as moto_main

    moto_main()


if __name__ == "__main__":
    main()
