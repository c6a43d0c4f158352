"""Hot fields that graphql-core resolves directly, without strawberry's per-field wrapper.

Strawberry runs every field with a resolver through its own wrapper: it builds an ``Info``,
converts the arguments, runs the field-extension chain, and checks for awaitables, even
where the field only reads an attribute. An inbox of 20 tasks resolves about 700 fields,
so that wrapper was a large part of the facade's CPU per request. Here the fields of the
types a task list returns get plain graphql-core resolvers that compute the same values:

- fields without a resolver read the attribute of the Python name (strawberry's own
  "basic field" path, minus a call layer);
- the few that convert (``status``, ``createdAt``, ``instance``, ...) or load (``variables``,
  ``Instance.tasks``) call the same functions the strawberry methods call.

The strawberry types stay the single description of the schema (SDL, descriptions,
types); this only swaps the resolve function of fields it names, and refuses to start
where a named field does not exist or has arguments it does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from resolvers import instance as resolve_instance
from resolvers import variable as resolve_variable
from resolvers.instance import InstanceRef, process_of

from .executor import mark_plain
from .task import as_datetime

if TYPE_CHECKING:  # generic only where graphql-core declares it so; never evaluated here
    from graphql import GraphQLResolveInfo

    from resolvers.context import Context

    Info = GraphQLResolveInfo[Context]

__all__ = ["install"]

Resolve = Callable[..., Any]
_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
#: The types whose fields are resolved many times per request (per task of a list).
_HOT_TYPES = ("Task", "Instance", "Variable", "Process", "TaskConnection", "TaskEdge", "PageInfo")


def _task_status(root: Any, _info: Info) -> str:
    # The enum's values are its names: graphql-core serializes the wire string as is.
    return str(root.status)


def _task_created_at(root: Any, _info: Info) -> Any:
    return as_datetime(root.create_time)


def _task_due_at(root: Any, _info: Info) -> Any:
    return as_datetime(root.due_date)


def _task_instance(root: Any, _info: Info) -> InstanceRef:
    return InstanceRef(root.instance_id)


def _task_process(root: Any, _info: Info) -> Any:
    return process_of(root)


def _task_raw(root: Any, _info: Info) -> Any:
    return dict(root.raw)


async def _task_variables(root: Any, info: Info, names: list[str] | None = None) -> Any:
    return await resolve_variable.task_variables(info.context, root.id, names)


async def _task_variable(root: Any, info: Info, name: str) -> Any:
    return await resolve_variable.task_variable(info.context, root.id, name)


async def _instance_tasks(root: InstanceRef, info: Info) -> Any:
    return await resolve_instance.instance_tasks(info.context, root)


async def _instance_process(root: InstanceRef, info: Info) -> Any:
    return await resolve_instance.instance_process(info.context, root)


#: (type, field) -> (resolver, the field's argument names).
_RESOLVERS: dict[tuple[str, str], tuple[Resolve, frozenset[str]]] = {
    ("Task", "status"): (_task_status, frozenset()),
    ("Task", "createdAt"): (_task_created_at, frozenset()),
    ("Task", "dueAt"): (_task_due_at, frozenset()),
    ("Task", "instance"): (_task_instance, frozenset()),
    ("Task", "process"): (_task_process, frozenset()),
    ("Task", "raw"): (_task_raw, frozenset()),
    ("Task", "variables"): (_task_variables, frozenset({"names"})),
    ("Task", "variable"): (_task_variable, frozenset({"name"})),
    ("Instance", "tasks"): (_instance_tasks, frozenset()),
    ("Instance", "process"): (_instance_process, frozenset()),
}


#: Resolvers that read their value from the root alone: ``schema.executor`` may complete
#: their fields directly (every ``_attribute`` resolver is one too).
_PLAIN = frozenset({_task_status, _task_created_at, _task_due_at, _task_raw})


def _attribute(name: str) -> Resolve:
    def resolve(root: Any, _info: Info) -> Any:
        return getattr(root, name)

    return resolve


def install(schema: GraphQLSchema) -> int:
    """Swap the resolvers of the hot types' fields; how many were swapped.

    The plain ones (an attribute, a conversion of the root) of a leaf type are also marked
    for ``schema.executor.FacadeExecutor`` to complete directly.
    """
    swapped = 0
    for type_name in _HOT_TYPES:
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        for graphql_field in graphql_type.fields.values():
            field = graphql_field.extensions.get(_BACKREF)
            if isinstance(field, StrawberryField) and field.is_basic_field:
                graphql_field.resolve = _attribute(field.python_name)
                mark_plain(graphql_field, graphql_field.resolve)
                swapped += 1
    for (type_name, field_name), (resolve, arguments) in _RESOLVERS.items():
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        graphql_field = graphql_type.fields[field_name]
        if set(graphql_field.args) != arguments:
            raise RuntimeError(f"{type_name}.{field_name}: arguments {set(graphql_field.args)}")
        graphql_field.resolve = resolve
        if resolve in _PLAIN:
            mark_plain(graphql_field, resolve)
        swapped += 1
    return swapped
