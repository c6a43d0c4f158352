"""Claiming and releasing tasks (endpoints 3 and unclaim), the race included."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

from backend.models import API_PREFIX
from tests.support.http import TLS

from .rest import Rest, error, ok

if TYPE_CHECKING:
    from tests.conftest import RunningRuntime, RuntimeFactory


async def test_claim_of_unassigned_task_gives_it_to_the_user(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    assert ok(await rest.claim(task_id, "alice")) == ""
    (task,) = await rest.tasks_for(user="alice")
    assert (task["id"], task["assignee"], task["status"]) == (task_id, "alice", "CLAIMED")


async def test_claim_by_the_holder_again_succeeds(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.claim(task_id, "alice"))
    ok(await rest.claim(task_id, "alice"))


async def test_claim_by_second_user_is_conflict(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.claim(task_id, "alice"))
    error(await rest.claim(task_id, "bob"), 409, "claimed by 'alice'")


async def test_claim_of_unknown_task_is_not_found(rest: Rest) -> None:
    error(await rest.claim("no-such-task", "alice"), 404, "no-such-task")


async def test_claim_of_completed_task_is_conflict(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    await rest.finish(task_id, "alice", {"roomBooked": False})
    error(await rest.claim(task_id, "alice"), 409, "already completed")


async def test_claim_without_user_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    error(await rest.post(f"/tasks/{task_id}/claim"), 400, "'user'", "required")


async def test_claim_with_empty_user_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    error(await rest.claim(task_id, ""), 400, "'user'", "empty")


async def test_claim_with_two_users_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    response = await rest.post(f"/tasks/{task_id}/claim", params=[("user", "a"), ("user", "b")])
    error(response, 400, "'user'", "once")


async def test_twenty_racing_claims_give_one_success_and_nineteen_conflicts(
    rest: Rest,
) -> None:
    task_id = await rest.new_booking_task()
    responses = await asyncio.gather(*(rest.claim(task_id, f"user{n}") for n in range(20)))
    codes = sorted(response.status_code for response in responses)
    assert codes == [200] + [409] * 19
    winner = next(n for n, r in enumerate(responses) if r.status_code == 200)
    (task,) = await rest.tasks_for(user=f"user{winner}")
    assert task["id"] == task_id


async def test_racing_claims_through_two_runtimes_on_one_database_have_one_winner(
    runtime: RunningRuntime, runtime_factory: RuntimeFactory, rest: Rest
) -> None:
    other = runtime_factory(db_path=runtime.db_path)
    task_id = await rest.new_booking_task()
    async with httpx.AsyncClient(verify=TLS) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{(runtime, other)[n % 2].base_url}{API_PREFIX}/tasks/{task_id}/claim",
                    params={"user": f"user{n}"},
                )
                for n in range(20)
            )
        )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19


async def test_unclaim_by_the_holder_makes_the_task_ready_again(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.claim(task_id, "alice"))
    assert ok(await rest.unclaim(task_id, "alice")) == ""
    (task,) = await rest.tasks_for(group="Clerk")
    assert (task["assignee"], task["status"]) == (None, "READY")
    ok(await rest.claim(task_id, "bob"))


async def test_unclaim_by_another_user_is_forbidden(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.claim(task_id, "alice"))
    error(await rest.unclaim(task_id, "bob"), 403, "claimed by 'alice'")


async def test_unclaim_of_unclaimed_task_is_conflict(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    error(await rest.unclaim(task_id, "alice"), 409, "not claimed")


async def test_unclaim_of_unknown_task_is_not_found(rest: Rest) -> None:
    error(await rest.unclaim("no-such-task", "alice"), 404, "no-such-task")


async def test_unclaim_without_user_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    error(await rest.post(f"/tasks/{task_id}/unclaim"), 400, "'user'")
