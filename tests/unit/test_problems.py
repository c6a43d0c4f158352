"""Upstream refusals as payload problems: GraphQL wording and the input field at fault."""

from __future__ import annotations

from typing import Any, cast

import pytest

from backend.errors import BadInput, Conflict, UpstreamTimeout
from resolvers.context import Context
from resolvers.problems import FieldGuess, argument_error, problem_for

COMPLETE = FieldGuess(("input", "variables"), frozenset({"taskId", "user", "variables"}))


class _Reported:
    def __init__(self) -> None:
        self.reported: list[Any] = []


def _problem(error: Exception, guess: FieldGuess = COMPLETE) -> Any:
    return problem_for(cast(Context, _Reported()), cast(Any, error), ("completeTask",), guess)


def test_a_missing_gateway_variable_is_named_under_variables() -> None:
    problem = _problem(
        BadInput(
            "cannot complete task 't': the gateway after ChooseRoom needs the variable 'roomBooked', which the instance does not have"
        )
    )
    assert problem.field == ("input", "variables", "roomBooked")


def test_an_unknown_upstream_refusal_points_at_the_mutations_likely_field() -> None:
    # What a real ONEWEB server might say: nothing that names a field.
    problem = _problem(BadInput("Process error: condition evaluation failed"))
    assert (problem.code, problem.field) == ("BAD_USER_INPUT", ("input", "variables"))
    assert problem.message == "Process error: condition evaluation failed"


def test_a_rest_parameter_becomes_the_input_field() -> None:
    problem = _problem(BadInput("query parameter 'user' must not be empty"))
    assert problem.field == ("input", "user")
    assert problem.message == "`user` must not be empty"


def test_a_conflict_names_the_task() -> None:
    assert _problem(Conflict("task 't' is already completed")).field == ("input", "taskId")


def test_an_upstream_failure_has_no_field_and_is_also_reported() -> None:
    context = _Reported()
    problem = problem_for(
        cast(Context, context), UpstreamTimeout("timed out"), ("completeTask",), COMPLETE
    )
    assert (problem.code, problem.field) == ("UPSTREAM_TIMEOUT", None)
    assert len(context.reported) == 1


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [(["id", "instanceId"], "instanceId"), (["id"], "id")],
)
def test_an_empty_id_names_the_argument_that_holds_it(arguments: list[str], expected: str) -> None:
    message, argument = argument_error("instance id must not be empty, '.' or '..'", arguments)
    assert argument == expected
    assert message == f"`{expected}` must not be empty, '.' or '..'"
