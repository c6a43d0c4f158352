"""graphql-core's executor with two shortcuts for the fields the fast paths know.

An inbox of 20 tasks completes about 500 leaf fields (``id``, ``name``, ``status``, the
variables' ``name value type``, ...). For each, graphql-core builds a path entry and a
``GraphQLResolveInfo`` (16 fields), reads the arguments, calls the resolver, asks whether
the result is awaitable, and walks the type (non-null? list? leaf?) to coerce the value.
For a field whose resolver is a plain read (``schema.fast_paths``: an attribute, or a
conversion that uses no ``info``) and whose type is a scalar or enum, or a list of them,
``execute_fields`` here reads and coerces the value directly, with no path entry.

Whatever is not the plain case goes the usual way, with the usual errors: a field with
arguments or directives, a null where the type forbids it, a value the scalar refuses,
any exception. The read has no side effects, so running it again the usual way (which
then raises, locates and reports the error as graphql-core does) is safe.

``is_awaitable`` is answered once per type rather than per value: the objects of the
facade's lists (tasks, instances, variables) are not awaitable, and graphql-core's check
(``hasattr(value, "__await__")``) costs an attribute lookup that fails, per value.

An execution leaves no garbage for the cyclic collector: graphql-core keeps its
resolvers' helpers (``info.async_helpers``) as methods bound to the executor, on the
executor, a cycle that kept every request's executor, context, loaders and parsed replies
(about 430 objects) alive until a collection. Here the helpers reach the executor weakly,
so reference counting frees a request's objects as its execution ends.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, MutableMapping, MutableSequence, Sequence
from inspect import CO_ITERABLE_COROUTINE
from types import CoroutineType, GeneratorType
from typing import Any, TypeGuard, TypeVar

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["FacadeExecutor", "is_awaitable", "mark_plain"]

#: The key in a ``GraphQLField``'s extensions under which its direct completion is kept.
_PLAIN = "oneweb.plain_completion"

Completion = Callable[[Any], Any]
#: What ``_awaited_in_place`` fills in: an object's results by field, or a list's items.
_Container = TypeVar("_Container", MutableMapping[str, Any], MutableSequence[Any])


class _Usual(Exception):
    """The value needs graphql-core's own completion (a null, a refusal, an error)."""


_USUAL = _Usual()


def _leaf(named: GraphQLOutputType, nullable: bool) -> Callable[[Any], Any] | None:
    """Coerce one value of a leaf type as ``complete_leaf_value`` does; ``_Usual`` otherwise."""
    if not isinstance(named, GraphQLLeafType):
        return None
    coerce = named.coerce_output_value

    def complete(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise _USUAL
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _USUAL
        return coerced

    return complete


def _completion(resolve: Callable[[Any, Any], Any], type_: GraphQLOutputType) -> Completion | None:
    """The direct completion of a field of ``type_`` read by ``resolve(root, None)``, or
    None where the type is not a leaf or a list of leaves."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    leaf = _leaf(inner, nullable)
    if leaf is not None:
        return lambda root: leaf(resolve(root, None))
    if not isinstance(inner, GraphQLList):
        return None
    item_type = inner.of_type
    item = _leaf(
        item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type,
        not isinstance(item_type, GraphQLNonNull),
    )
    if item is None:
        return None

    def complete_list(root: Any) -> Any:
        values = resolve(root, None)
        if values is None:
            if nullable:
                return None
            raise _USUAL
        if type(values) is not list and type(values) is not tuple:
            raise _USUAL  # another iterable: graphql-core's own iteration
        return [item(value) for value in values]

    return complete_list


def mark_plain(field: GraphQLField, resolve: Callable[[Any, Any], Any]) -> bool:
    """Let ``FacadeExecutor`` complete ``field`` directly: ``resolve`` must read its
    value from the root alone (it is called with ``info=None``), with no side effects.
    False (and nothing marked) where the field's type is not a leaf or a list of leaves."""
    completion = _completion(resolve, field.type)
    if completion is None or field.args:
        return False
    field.extensions[_PLAIN] = completion
    return True


_AWAITABLE_TYPES: dict[type, bool] = {}


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """graphql-core's ``is_awaitable``, with the ``__await__`` lookup made once per type.

    ``await`` finds ``__await__`` on the type, so the answer for a type holds for every
    value of it; old-style generator coroutines are told by a flag of each generator.
    """
    kind = type(value)
    known = _AWAITABLE_TYPES.get(kind)
    if known is not None:
        return known
    if kind is CoroutineType:
        return True
    if kind is GeneratorType:
        return bool(value.gi_code.co_flags & CO_ITERABLE_COROUTINE)
    answer = hasattr(kind, "__await__")
    if len(_AWAITABLE_TYPES) < 1024:  # bounded: types are few, but never unbounded
        _AWAITABLE_TYPES[kind] = answer
    return answer


def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, bound to its object through a weak reference (no cycle through it)."""
    bound = weakref.WeakMethod(method)

    def call(*args: Any) -> Any:
        target = bound()
        if target is None:  # pragma: no cover - a resolver outliving its execution
            raise RuntimeError("the execution this resolver ran in has ended")
        return target(*args)

    return call


class FacadeExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain leaf fields completed directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=_weakly(self.gather_async_work), track=_weakly(self.track_async_work)
        )
        # A resolve middleware (a strawberry extension with ``resolve``) sees every field.
        manager = self.middleware_manager
        self._direct = manager is None or not manager.middlewares
        #: (the list, its completion) by (the list's id, the selection's id): see
        #: ``complete_list_value``.
        self._completed_lists: dict[tuple[int, int], tuple[Any, list[Any]]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's, but a plain field's value is read and coerced here, without a
        path entry and a call of ``execute_field``; the rest as graphql-core does."""
        if not self._direct:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        fields = parent_type.fields
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                if not node.arguments and not node.directives:
                    field = fields.get(node.name.value)
                    completion = None if field is None else field.extensions.get(_PLAIN)
                    if completion is not None:
                        try:
                            results[response_name] = completion(source_value)
                            continue
                        except Exception:  # the usual way below reports it
                            pass
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                # Settle the awaitables of the other fields: they may fail too.
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _awaited_in_place(results, awaitable_fields)

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's, but a list of objects of one type (tasks, instances, variables)
        collects the objects' fields once and executes each object's fields directly,
        without completing each item through the type walk. Anything else (an item that
        is null or awaitable, another iterable, ``@stream``, ``@defer``, a type that checks
        its objects, a resolve middleware) goes the usual way."""
        item_type = return_type.of_type
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if (
            not self._direct
            or position_context is not None
            or not isinstance(object_type, GraphQLObjectType)
            or object_type.is_type_of is not None
            or (type(result) is not list and type(result) is not tuple)
            or any(item is None or is_awaitable(item) for item in result)
            or self.get_stream_usage(field_details_list, path) is not None
        ):
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type, field_details_list
        )
        if new_defer_usages:
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        # The same list with the same selection completes to the same values: the four
        # tasks of one instance each select ``instance { tasks { ... } }`` of one loaded
        # listing. A completion without errors (which carry their paths) and without
        # awaitables is kept for the rest of the execution, and shared: the response is
        # only read from here on. The list is kept with it, so its id is not reused.
        key = (id(result), id(field_details_list))
        known = self._completed_lists.get(key)
        if known is not None and known[0] is result:
            return known[1]
        errors_before = len(self.collected_errors.errors)
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        execute_fields = self.execute_fields
        for index, item in enumerate(result):
            item_path = path.add_key(index, None)
            try:
                value = execute_fields(object_type, item, item_path, grouped_field_set, None)
            except Exception as raw_error:
                # Raises again where the item type is non-null: the list becomes null.
                self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                value = None
            else:
                if is_awaitable(value):
                    value = self._settle_item(value, item_type, field_details_list, item_path)
                    awaitable_indices.append(index)
            completed.append(value)
        if not awaitable_indices:
            if len(self.collected_errors.errors) == errors_before:
                self._completed_lists[key] = (result, completed)
            return completed
        return _awaited_in_place(completed, awaitable_indices)

    async def _settle_item(
        self,
        value: Awaitable[Any],
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        item_path: Path,
    ) -> Any:
        try:
            return await value
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, field_details_list, item_path)
            return None


async def _awaited_in_place(values: _Container, keys: Sequence[Any]) -> _Container:
    """``values`` (a field's results by name, a list's items) with the awaitables at ``keys``
    replaced by their results, awaited together where there are several."""
    if len(keys) == 1:
        key = keys[0]
        values[key] = await values[key]
    else:
        awaited = await gather_with_cancel(*(values[key] for key in keys))
        for key, value in zip(keys, awaited, strict=True):
            values[key] = value
    return values
