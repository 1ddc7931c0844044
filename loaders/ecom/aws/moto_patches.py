"""Fixes to the emulator (moto 5.2), applied wherever the project runs a moto server.

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

The count of clauses (one ``SET``, one ``ADD``, ...) had the same shape: it ran on every one
of the ~30 nodes of a seven-clause expression, each time searching the subtree. It now runs
on the root, whose search reaches every clause. And the node types a traverser handles,
which moto's docstring calls cached but rebuilds for every node, are now built once per
traverser.

moto's Kinesis ``Shard.put_record`` numbers a record "max + 1" without a lock (its source says
it is not safe for concurrency), and the server answers requests in threads: two PutRecords
calls at once can give two records the same sequence number, and the second overwrites the
first although both were acknowledged. Records are now numbered one at a time.

moto checks an item's size (the 400 KB limit) on every attribute an update sets, each time over
the whole item, and sizes a set by building an object per member: an update of a segment with
a few thousand ``ev`` entries spent most of its time there (cProfile of 200 in-process
transactions on sets growing to 2,000 members: 74 of 110 s; 35 ms a transaction after, 550 before).
:func:`set_size` gives a set's size by the same rule (UTF-8 bytes of each string or binary
member, digits of each number) without the objects; the limit and its error are unchanged.

moto's update Validator deep-copies the expression's syntax tree before every update (the
parser's tree may be validated twice). ``copy.deepcopy``'s generic machinery was a fifth of a
transaction's time; :func:`clone_tree` copies the tree node by node to the same result (an
in-process transaction of 40 segment updates: 1.4-1.8 ms an item against 1.7-2.2, three runs).

Two more per update: each of the ~10 traversals of the tree asked ``isinstance`` twice per
node against abstract base classes (a Python-level ``__instancecheck__`` each time);
:func:`typed_traversal` answers per node type from a dict. And the expression was parsed
twice per update (the request's checks, then the update); its tree is now parsed once per
text and shared, as nothing changes it (the Validator works on its copy).

moto keeps a set as a list, and ``ADD`` looks each new member up in that list: adding n
members to a set of m costs n x m comparisons, and n x n / 2 for a new set (a segment's ``ev``
takes thousands of entries). :func:`add_to_set` merges with a hash lookup, in the same order;
every other case (another type, an empty set, a number) goes to moto's own code and errors.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
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
            expressions = {
                "condition_expression": condition_expression,
                "expression_attribute_names": names,
                "expression_attribute_values": values,
            }
            if op_type == "Put":
                self.put_item(table_name, op["Item"], **expressions)
            elif op_type == "Delete":
                self.delete_item(table_name, key, **expressions)
            elif op_type == "Update":
                self.update_item(
                    table_name, key, update_expression=op["UpdateExpression"], **expressions
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


def set_size(original: Callable[[Any], int]) -> Callable[[Any], int]:
    """``DynamoType.size`` with sets sized in one pass (other types go to ``original``)."""

    def size(self: Any) -> int:
        if not self.is_set():
            return original(self)
        if self.type == "NS":
            return sum(map(len, map(str, self.value)))
        try:  # the UTF-8 bytes of a concatenation are the sum of each member's
            return len("".join(self.value).encode("utf-8"))
        except TypeError:  # binary members held as bytes
            return sum(len(v if isinstance(v, bytes) else v.encode("utf-8")) for v in self.value)

    return size


def add_to_set(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """``AddExecutor.execute`` with members added to an existing set of the same type by hash."""
    from moto.dynamodb.exceptions import ProvidedKeyDoesNotExist
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.parsing.executors import SetExecutor

    def execute(self: Any, item: Any) -> None:
        value = self.get_action_value()
        if isinstance(value, DynamoType) and value.is_set() and value.value:
            try:
                current = self.get_item_at_end_of_path(item)
            except ProvidedKeyDoesNotExist:  # a new attribute: an empty set first, as moto does
                current = DynamoType({value.type: []})
                SetExecutor.set(
                    item_part_to_modify_with_set=self.get_item_before_end_of_path(item),
                    element_to_set=self.get_element_to_action(),
                    value_to_set=current,
                    expression_attribute_names=self.expression_attribute_names,
                )
            if isinstance(current, DynamoType) and current.type == value.type:
                present = set(current.value)
                for member in value.value:
                    if member not in present:
                        present.add(member)
                        current.value.append(member)
                return
        original(self, item)

    return execute


def clone_tree(deepcopy: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``copy.deepcopy`` of an expression's syntax tree, node by node: the Validator copies
    the tree it is given before every update (the parser's tree is kept for another
    validation), and the generic deepcopy's memo and reduce protocol cost most of that. A
    node's attributes are its ``type``, ``children`` and ``parent``; values that are not nodes
    are deep-copied as before. Anything else (a subtree with a parent, a node with other
    attributes) goes to ``deepcopy``."""
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]

    plain = {"type", "children", "parent"}

    def copy_node(node: Any, parent: Any) -> Any:
        new = object.__new__(type(node))
        children = node.children
        if isinstance(children, list):
            children = [copy_node(c, new) if isinstance(c, Node) else deepcopy(c) for c in children]
        new.__dict__.update(type=node.type, children=children, parent=parent)
        return new

    def simple(node: Any) -> bool:
        if not isinstance(node, Node) or node.__dict__.keys() != plain:
            return False
        children = node.children
        return not isinstance(children, list) or all(
            simple(c) for c in children if isinstance(c, Node)
        )

    def copy_tree(expression: Any) -> Any:
        if isinstance(expression, Node) and expression.parent is None and simple(expression):
            return copy_node(expression, None)
        return deepcopy(expression)

    return copy_tree


def typed_traversal(node_class: type) -> Callable[..., Any]:
    """``DepthFirstTraverser.traverse_node_recursively`` with its two ``isinstance`` checks per
    node (is it a node; is it one this traverser processes) answered per node type from a
    dict: moto's nodes are abstract base classes, so each check went through
    ``ABCMeta.__instancecheck__``, ~10 traversals of every node per update. Nodes are never
    registered as virtual subclasses, so a type's answer never changes. The walk, the order
    and the replacement of processed nodes are moto's."""
    is_node: dict[type, bool] = {}

    def traverse(self: Any, node: Any, child_id: int = -1) -> Any:
        kind = type(node)
        known = is_node.get(kind)
        if known is None:
            known = is_node[kind] = issubclass(kind, node_class)
        if not known:
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                traverse(self, child_node, i)
        processed: dict[type, bool] | None = self.__dict__.get("_ecom_processed")
        if processed is None:
            processed = self.__dict__["_ecom_processed"] = {}
        wanted = processed.get(kind)
        if wanted is None:
            wanted = processed[kind] = issubclass(kind, self.nodes_to_be_processed())
        if wanted:
            node = self.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    return traverse


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

    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]
    from moto.dynamodb.parsing.validators import ActionCountValidator

    count = ActionCountValidator.verify_action_counts

    def root_only(self: Any, node: Any) -> Any:
        if getattr(node, "parent", None) is not None:
            return node  # the root's count covers every clause below it
        return count(self, node)

    ActionCountValidator.verify_action_counts = root_only  # type: ignore[method-assign]

    def node_types(self: Any) -> tuple[type, ...]:
        cached: tuple[type, ...] | None = self.__dict__.get("_ecom_node_types")
        if cached is None:
            cached = self.__dict__["_ecom_node_types"] = tuple(self._processing_map())
        return cached

    DepthFirstTraverser.nodes_to_be_processed = node_types
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]

    DepthFirstTraverser.traverse_node_recursively = typed_traversal(Node)

    # an update expression's tree is parsed once per text (moto parsed it twice per update:
    # the request's checks, then the update): nothing changes the parser's tree (the request
    # only reads it, the Validator copies it, and only the copy is processed and normalised)
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )

    parse = UpdateExpressionParser.make.__func__
    parsed = functools.lru_cache(maxsize=256)(lambda text: parse(UpdateExpressionParser, text))
    UpdateExpressionParser.make = classmethod(lambda cls, text: parsed(text))

    from moto.dynamodb.parsing import validators

    validators.deepcopy = clone_tree(copy.deepcopy)  # type: ignore[assignment]

    from moto.dynamodb.models.dynamo_type import DynamoType

    DynamoType.size = set_size(DynamoType.size)  # type: ignore[method-assign,assignment]

    from moto.dynamodb.parsing.executors import AddExecutor

    AddExecutor.execute = add_to_set(AddExecutor.execute)  # type: ignore[method-assign,assignment]

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
