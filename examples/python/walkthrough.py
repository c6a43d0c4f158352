"""The BookingRoom walkthrough with the client ariadne-codegen generated from operations.graphql.

    ariadne-codegen --config ariadne-codegen.toml        # writes inbox_client/
    python walkthrough.py http://127.0.0.1:8000/graphql clerk1

Starts a booking, finds its Choose Room task in the clerk's inbox, claims it, completes it
with ``roomBooked: false`` and prints the instance's next open task as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys

from inbox_client import Client, TaskFilter


async def walkthrough(url: str, user: str) -> dict[str, object]:
    # In production the proxy in front of the facade (or a bearer token) says who is asking.
    headers = {"X-Remote-User": user, "X-Remote-Groups": "Clerk"}
    async with Client(url=url, headers=headers) as client:
        started = await client.start_process(
            process_name="BookingRoom", variables={"customer": "Ada Lovelace", "nights": 2}
        )
        assert started.start_process.instance is not None, started.start_process.errors
        instance_id = started.start_process.instance.id

        # The viewer's inbox: who is asking comes from the headers, so the query names no group.
        inbox = await client.inbox(filter_=TaskFilter(definition_id=["ChooseRoom"]))
        assert inbox.viewer is not None and inbox.viewer.inbox is not None
        task = next(node for node in inbox.viewer.inbox.nodes if node.instance_id == instance_id)

        claimed = await client.claim_task(task_id=task.id)
        assert not claimed.claim_task.errors, claimed.claim_task.errors
        assert claimed.claim_task.task is not None

        completed = await client.complete_task(task_id=task.id, variables={"roomBooked": False})
        assert not completed.complete_task.errors, completed.complete_task.errors
        instance = completed.complete_task.instance
        next_tasks = instance.tasks if instance is not None and instance.tasks else []
        return {
            "instanceId": instance_id,
            "claimedBy": claimed.claim_task.task.assignee,
            "completedTaskOpen": completed.complete_task.task is not None,
            "next": [open_task.definition_id for open_task in next_tasks],
        }


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/graphql"
    user = sys.argv[2] if len(sys.argv) > 2 else "clerk1"
    print(json.dumps(asyncio.run(walkthrough(url, user))))
