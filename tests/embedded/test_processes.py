"""The bundled processes run end to end over REST, exactly as docs/processes.md draws them."""

from __future__ import annotations

from lxml import etree

from backend.embedded.definitions import BUNDLED_PROCESSES_DIR

from .rest import Rest, ok

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"


async def test_booking_room_starts_with_choose_room_for_clerks(rest: Rest) -> None:
    task = await rest.only_task(await rest.start("BookingRoom", appName="Hotel", snapVersion="v2"))
    assert task["definitionId"] == "ChooseRoom"
    assert task["name"] == "Choose Room"
    assert task["processName"] == "BookingRoom"
    assert task["candidateGroups"] == ["Clerk"]
    assert task["candidateUsers"] == [] and task["candidateRoles"] == []
    assert task["status"] == "READY" and task["assignee"] is None
    assert task["createBy"] == "system" and task["priority"] == 50
    assert isinstance(task["createTime"], int) and task["createTime"] > 1_600_000_000_000
    assert (task["appName"], task["snapVersion"]) == ("Hotel", "v2")


async def test_booking_room_loops_to_a_new_choose_room_when_the_room_is_booked(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom")
    first = await rest.only_task(instance_id)
    await rest.finish(first["id"], "clerk", {"roomBooked": True})
    second = await rest.only_task(instance_id)
    assert second["definitionId"] == "ChooseRoom"
    assert second["id"] != first["id"]
    assert second["status"] == "READY"


async def test_booking_room_goes_on_to_customer_details_then_ends(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom")
    choose = await rest.only_task(instance_id)
    await rest.finish(choose["id"], "clerk", {"roomBooked": False, "room": "101"})
    details = await rest.only_task(instance_id)
    assert details["definitionId"] == "AddCustomerDetails"
    assert details["name"] == "Add Customer Details"
    assert details["candidateGroups"] == ["Clerk"]
    await rest.finish(details["id"], "clerk", {"customer": "Ann"})
    assert await rest.tasks_of(instance_id) == []
    assert ok(await rest.variables(details["id"])) == {
        "roomBooked": False,
        "room": "101",
        "customer": "Ann",
    }


async def test_leave_request_goes_from_employee_to_manager(rest: Rest) -> None:
    instance_id = await rest.start("LeaveRequest", {"days": 3})
    submit = await rest.only_task(instance_id)
    assert (submit["definitionId"], submit["candidateGroups"]) == ("SubmitRequest", ["Employee"])
    await rest.finish(submit["id"], "emma", {})
    approve = await rest.only_task(instance_id)
    assert (approve["definitionId"], approve["candidateGroups"]) == ("ApproveRequest", ["Manager"])


async def test_leave_request_revise_loop_returns_to_approval_then_ends(rest: Rest) -> None:
    instance_id = await rest.start("LeaveRequest", {"days": 3})
    await rest.finish((await rest.only_task(instance_id))["id"], "emma", {})
    approve = await rest.only_task(instance_id)
    await rest.finish(approve["id"], "mike", {"approved": False, "reason": "too long"})
    revise = await rest.only_task(instance_id)
    assert (revise["definitionId"], revise["candidateGroups"]) == ("ReviseRequest", ["Employee"])
    await rest.finish(revise["id"], "emma", {"days": 2})
    again = await rest.only_task(instance_id)
    assert again["definitionId"] == "ApproveRequest" and again["id"] != approve["id"]
    await rest.finish(again["id"], "mike", {"approved": True})
    assert await rest.tasks_of(instance_id) == []
    assert ok(await rest.variables(again["id"])) == {
        "days": 2,
        "approved": True,
        "reason": "too long",
    }


def test_every_bundled_element_has_diagram_information() -> None:
    for path in sorted(BUNDLED_PROCESSES_DIR.glob("*.bpmn")):
        tree = etree.parse(str(path))
        elements = {
            node.get("id")
            for node in tree.iter()
            if isinstance(node.tag, str)
            and node.tag.startswith(f"{{{BPMN}}}")
            and etree.QName(node).localname
            in {
                "participant",
                "lane",
                "startEvent",
                "endEvent",
                "userTask",
                "exclusiveGateway",
                "sequenceFlow",
            }
        }
        drawn = {
            node.get("bpmnElement")
            for node in tree.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge")
        }
        assert elements and elements <= drawn, (path.name, elements - drawn)
