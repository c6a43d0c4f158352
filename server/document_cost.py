"""What a GraphQL document costs, measured in one pass that visits each fragment once.

A document can spread a fragment many times, and that fragment can spread another
many times: 20 chained fragments that each spread the next twice stand for a million
selections in 800 bytes. Walking every spread (as a naive depth or alias rule does)
takes exponential time; here each fragment is measured once, and every spread of it
reuses that measure. Fragment chains are walked without recursion (a chain of
hundreds of fragments cannot exhaust the stack), cycles count as empty (graphql-core's
``NoFragmentCyclesRule`` reports them), and unknown fragments count as empty too
(``KnownFragmentNamesRule`` reports them).

>>> cost = measure(parse('{ a: tasks(group: "Clerk") { totalCount } }'))
>>> cost.depth, cost.aliases, cost.selections
(1, 1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

__all__ = ["Cost", "largest_merge", "measure"]

#: Counts saturate here, so a fragment bomb never builds numbers with thousands of digits.
SATURATED = 10**12


@dataclass(frozen=True, slots=True)
class Cost:
    """The size of a document with its fragments expanded.

    ``depth`` is the deepest nesting of fields with a selection set in any one operation,
    introspection fields (``__schema``, ``__type``) not counted, as strawberry's depth
    limit counts it; ``operation_depths`` holds it per operation name (``anonymous`` for
    the unnamed one). ``aliases`` and ``selections`` count every aliased field and every
    field of all operations, each spread counted as often as it appears; ``spreads``
    counts the fragment spreads so expanded.
    """

    depth: int = 0
    aliases: int = 0
    selections: int = 0
    spreads: int = 0
    operation_depths: tuple[tuple[str, int], ...] = ()


_EMPTY = Cost()


def _add(a: int, b: int) -> int:
    return min(a + b, SATURATED)


class _Measurer:
    """Measures selection sets; fragments are looked up in ``known`` (already measured)."""

    def __init__(self) -> None:
        self.known: dict[str, Cost] = {}

    def selection_set(self, node: SelectionSetNode | None) -> Cost:
        if node is None:
            return _EMPTY
        depth = aliases = selections = spreads = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                selections = _add(selections, 1)
                if selection.alias is not None:
                    aliases = _add(aliases, 1)
                if selection.selection_set is None:
                    continue
                inner = self.selection_set(selection.selection_set)
                if not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
            elif isinstance(selection, FragmentSpreadNode):
                spreads = _add(spreads, 1)
                inner = self.known.get(selection.name.value, _EMPTY)
                depth = max(depth, inner.depth)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
                depth = max(depth, inner.depth)
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            aliases = _add(aliases, inner.aliases)
            selections = _add(selections, inner.selections)
            spreads = _add(spreads, inner.spreads)
        return Cost(depth, aliases, selections, spreads)


def _spreads(node: SelectionSetNode | None) -> list[str]:
    """The fragment names spread anywhere in a selection set, in order."""
    names: list[str] = []
    pending = [node] if node is not None else []
    while pending:
        current = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode):
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
    return names


def _in_dependency_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after every fragment it spreads (a cycle is cut where found)."""
    order: list[str] = []
    state: dict[str, bool] = {}  # False: being visited; True: done
    for root in fragments:
        if root in state:
            continue
        state[root] = False
        stack = [(root, iter(_spreads(fragments[root].selection_set)))]
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[name] = True
                order.append(name)
            elif child in fragments and child not in state:
                state[child] = False
                stack.append((child, iter(_spreads(fragments[child].selection_set))))
    return order


def measure(document: DocumentNode) -> Cost:
    """The cost of ``document``, in time linear in its size."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
    measurer = _Measurer()
    for name in _in_dependency_order(fragments):
        measurer.known[name] = measurer.selection_set(fragments[name].selection_set)
    depth = aliases = selections = spreads = 0
    depths: list[tuple[str, int]] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            cost = measurer.selection_set(definition.selection_set)
            name = definition.name.value if definition.name else "anonymous"
            depths.append((name, cost.depth))
            depth = max(depth, cost.depth)
            aliases = _add(aliases, cost.aliases)
            selections = _add(selections, cost.selections)
            spreads = _add(spreads, cost.spreads)
    return Cost(depth, aliases, selections, spreads, tuple(depths))


def largest_merge(document: DocumentNode) -> int:
    """The most fields that share one response name at one path once fragments are
    expanded and same-named fields merged, as execution merges them.

    graphql-core's ``OverlappingFieldsCanBeMergedRule`` compares such fields pairwise,
    so its time grows with the square of this number. The walk expands every spread,
    so call it only on a document whose ``measure`` is within the selection limit (its
    time is linear in the expanded size); a fragment spread within itself is not
    expanded again.
    """
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments.setdefault(definition.name.value, definition)
    largest = 0
    pending: list[list[SelectionSetNode]] = [
        [definition.selection_set]
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    while pending:
        groups: dict[str, list[FieldNode]] = {}
        for selection_set in pending.pop():
            _collect(selection_set, fragments, groups)
        for fields in groups.values():
            largest = max(largest, len(fields))
            inner = [field.selection_set for field in fields if field.selection_set is not None]
            if inner:
                pending.append(inner)
    return largest


def _collect(
    node: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    groups: dict[str, list[FieldNode]],
) -> None:
    """Adds the fields of one merged level to ``groups``, by response name (no recursion:
    a long fragment chain cannot exhaust the stack)."""
    pending: list[tuple[SelectionSetNode, frozenset[str]]] = [(node, frozenset())]
    while pending:
        current, expanding = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                groups.setdefault((selection.alias or selection.name).value, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, expanding))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in expanding:
                    pending.append((fragment.selection_set, expanding | {name}))
