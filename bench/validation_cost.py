"""How long the facade takes to refuse or validate hostile documents: median of N runs each.

Every run parses, limits and validates a fresh document (its operation name changes, so
the validation cache never answers) through the facade's schema with the default
limits, in this process (wall-clock median and worst, and the median CPU time, which a
busy machine inflates less):

    .venv/bin/python -m bench.validation_cost [--runs 20]
    .venv/bin/python -m bench.validation_cost --runs 20 --strawberry-rules   # the old way

``--strawberry-rules`` measures the fragment bomb alone through strawberry's own depth
and alias rules (``QueryDepthLimiter``, ``MaxAliasesLimiter``), which walk every spread:
what the facade used before its one-pass limits (expect seconds per run).

The aim (``docs/reliability.md``): every document within the body limit is refused or
validated within 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from schema import build_schema
from schema.mutation import Mutation
from schema.query import Query
from server.limits import (
    DEFAULT_MAX_ALIASES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SELECTIONS,
    DEFAULT_MAX_TOKENS,
    query_limits,
)


def fragment_bomb(levels: int) -> str:
    """``levels`` chained fragments, each spreading the next twice."""
    parts = ["query Q__RUN__ { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels - 1)]
    parts.append(f"fragment F{levels - 1} on Query {{ __typename }}")
    return "\n".join(parts)


def chain(length: int) -> str:
    parts = ["query Q__RUN__ { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length - 1)]
    parts.append(f"fragment F{length - 1} on Query {{ __typename }}")
    return "\n".join(parts)


def same_field(count: int) -> str:
    return "query Q__RUN__ { " + " ".join(['tasks(group: "Clerk") { totalCount }'] * count) + " }"


def conflicting(count: int) -> str:
    fields = " ".join(f'tasks(group: "g{i}") {{ totalCount }}' for i in range(count))
    return "query Q__RUN__ { " + fields + " }"


def many_fragments(count: int) -> str:
    parts = ["query Q__RUN__ { " + " ".join(f"...F{i}" for i in range(count)) + " }"]
    parts += [
        f'fragment F{i} on Query {{ tasks(group: "Clerk") {{ nodes {{ ...T{i} }} }} }}'
        for i in range(count)
    ]
    parts += [f"fragment T{i} on Task {{ id name instance {{ id }} }}" for i in range(count)]
    return "\n".join(parts)


def within_limits(copies: int) -> str:
    """A legitimate document near the limits: 50 copies of a field that merge."""
    return (
        "query Q__RUN__ { "
        + " ".join(['tasks(group: "Clerk") { nodes { id name } }'] * copies)
        + " }"
    )


DOCUMENTS: dict[str, Callable[[], str]] = {
    "fragment bomb, 20 levels": lambda: fragment_bomb(20),
    "fragment bomb, 200 levels": lambda: fragment_bomb(200),
    "chain of 600 fragments": lambda: chain(600),
    "400 copies of one field": lambda: same_field(400),
    "400 conflicting fields": lambda: conflicting(400),
    "120 fragments side by side": lambda: many_fragments(120),
    "a 1 MB string literal": lambda: '{ process(name: "' + "x" * 1_000_000 + '") { name } }',
    "240 unknown 200-char fields": lambda: (
        "query Q__RUN__ { " + " ".join(f"a{i}_" + "n" * 200 for i in range(240)) + " }"
    ),
    "50 copies that merge (runs)": lambda: within_limits(50),
}


def _strawberry_rules_schema() -> strawberry.Schema:
    """The schema with strawberry's own limit rules, as the facade had them before."""
    rules = [depth_validator(DEFAULT_MAX_DEPTH, None), aliases_validator(DEFAULT_MAX_ALIASES)]
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=DEFAULT_MAX_TOKENS),
        lambda: AddValidationRules(rules),
        ValidationCache,
    ]
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)


async def measure(runs: int, *, strawberry_rules: bool) -> None:
    """Print one line per document: its size, the median and worst time, the answer."""
    if strawberry_rules:
        schema = _strawberry_rules_schema()
        documents = {"fragment bomb, 20 levels": DOCUMENTS["fragment bomb, 20 levels"]}
    else:
        limits = query_limits(
            max_depth=DEFAULT_MAX_DEPTH,
            max_aliases=DEFAULT_MAX_ALIASES,
            max_tokens=DEFAULT_MAX_TOKENS,
            max_selections=DEFAULT_MAX_SELECTIONS,
        )
        schema = build_schema(extensions=limits)
        documents = DOCUMENTS
    print(f"{'document':30} {'bytes':>6} {'median ms':>10} {'max ms':>8} {'CPU ms':>7}  answer")
    for name, build in documents.items():
        document = build()
        times: list[float] = []
        cpu: list[float] = []
        answer = "validated"
        for run in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = await schema.execute(document.replace("__RUN__", str(run)))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            # Execution's own errors (no context here) carry a path; refusals do not.
            errors = [e for e in result.errors or () if e.path is None]
            if errors:
                answer = str((errors[0].extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED"))
        print(
            f"{name:30} {len(document):6} {statistics.median(times) * 1000:10.1f} "
            f"{max(times) * 1000:8.1f} {statistics.median(cpu) * 1000:7.1f}  {answer}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--strawberry-rules", action="store_true")
    arguments = parser.parse_args()
    logging.disable(logging.ERROR)  # the resolvers fail without a request context: expected
    asyncio.run(measure(arguments.runs, strawberry_rules=arguments.strawberry_rules))


if __name__ == "__main__":
    main()
