"""Definitions at runtime: refreshCache (endpoint 10) and classAction (endpoint 11)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from backend.embedded.app import create_app
from backend.embedded.definitions import Definitions
from tests.support.http import TLS

from .rest import Rest, error, ok

if TYPE_CHECKING:
    from tests.conftest import RuntimeFactory

BROKEN_XML = "<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>"


def _rename_process(processes_dir: Path, old: str, new: str) -> None:
    text = (processes_dir / f"{old}.bpmn").read_text()
    (processes_dir / f"{new}.bpmn").write_text(text.replace(old, new))


def _rename_choose_room(processes_dir: Path, name: str) -> None:
    path = processes_dir / "BookingRoom.bpmn"
    path.write_text(path.read_text().replace('name="Choose Room"', f'name="{name}"'))


async def test_refresh_answers_the_loaded_processes(rest: Rest) -> None:
    response = await rest.post("/refreshCache")
    assert ok(response) == ""
    assert "BookingRoom" in response.json()["message"]


async def test_refresh_picks_up_a_new_file(copy_rest: Rest, processes_dir: Path) -> None:
    error(await copy_rest.post("/process/start", json={"processName": "TravelRequest"}), 404)
    _rename_process(processes_dir, "LeaveRequest", "TravelRequest")
    ok(await copy_rest.post("/refreshCache"))
    task = await copy_rest.only_task(await copy_rest.start("TravelRequest"))
    assert (task["processName"], task["definitionId"]) == ("TravelRequest", "SubmitRequest")


async def test_refresh_picks_up_a_changed_file(copy_rest: Rest, processes_dir: Path) -> None:
    _rename_choose_room(processes_dir, "Pick Room")
    ok(await copy_rest.post("/refreshCache"))
    assert (await copy_rest.only_task(await copy_rest.start("BookingRoom")))["name"] == "Pick Room"


async def test_running_instance_keeps_the_definition_it_started_with(
    copy_rest: Rest, processes_dir: Path
) -> None:
    instance_id = await copy_rest.start("BookingRoom")
    _rename_choose_room(processes_dir, "Pick Room")
    ok(await copy_rest.post("/refreshCache"))
    await copy_rest.finish(
        (await copy_rest.only_task(instance_id))["id"], "u", {"roomBooked": True}
    )
    assert (await copy_rest.only_task(instance_id))["name"] == "Choose Room"


async def test_refresh_forgets_a_removed_file(copy_rest: Rest, processes_dir: Path) -> None:
    (processes_dir / "LeaveRequest.bpmn").unlink()
    assert "removed: LeaveRequest" in ok_message(await copy_rest.post("/refreshCache"))
    error(await copy_rest.post("/process/LeaveRequest/start", json={}), 404, "LeaveRequest")


async def test_instance_of_a_removed_process_runs_to_its_end(
    copy_rest: Rest, processes_dir: Path
) -> None:
    instance_id = await copy_rest.start("LeaveRequest")
    (processes_dir / "LeaveRequest.bpmn").unlink()
    ok(await copy_rest.post("/refreshCache"))
    await copy_rest.finish((await copy_rest.only_task(instance_id))["id"], "emma", {})
    await copy_rest.finish(
        (await copy_rest.only_task(instance_id))["id"], "mike", {"approved": True}
    )
    assert await copy_rest.tasks_of(instance_id) == []


async def test_refresh_with_a_broken_file_names_it_and_loads_the_others(
    copy_rest: Rest, processes_dir: Path
) -> None:
    (processes_dir / "Broken.bpmn").write_text(BROKEN_XML)
    _rename_process(processes_dir, "LeaveRequest", "TravelRequest")
    message = error(await copy_rest.post("/refreshCache"), 400, "Broken.bpmn")
    assert "TravelRequest" in message and "BookingRoom" in message
    await copy_rest.start("TravelRequest")
    await copy_rest.start("BookingRoom")


async def test_refresh_keeps_the_last_good_definition_of_a_file_that_broke(
    copy_rest: Rest, processes_dir: Path
) -> None:
    (processes_dir / "BookingRoom.bpmn").write_text(BROKEN_XML)
    error(await copy_rest.post("/refreshCache"), 400, "BookingRoom.bpmn", "kept")
    task = await copy_rest.only_task(await copy_rest.start("BookingRoom"))
    assert task["name"] == "Choose Room"


async def test_broken_file_at_startup_does_not_stop_the_runtime(
    runtime_factory: RuntimeFactory, processes_dir: Path
) -> None:
    (processes_dir / "Broken.bpmn").write_text("not xml at all")
    runtime = runtime_factory(processes_dir=processes_dir)
    async with httpx.AsyncClient(base_url=runtime.base_url, verify=TLS) as client:
        await Rest(client).start("LeaveRequest")


async def test_file_defining_a_process_twice_is_broken(
    copy_rest: Rest, processes_dir: Path
) -> None:
    text = (processes_dir / "BookingRoom.bpmn").read_text()
    (processes_dir / "Copy.bpmn").write_text(text)
    error(await copy_rest.post("/refreshCache"), 400, "Copy.bpmn", "already defined")


async def test_class_action_reloads_one_process(copy_rest: Rest, processes_dir: Path) -> None:
    _rename_choose_room(processes_dir, "Pick Room")
    response = await copy_rest.post("/classAction", json={"processName": "BookingRoom"})
    assert "BookingRoom" in ok_message(response)
    assert (await copy_rest.only_task(await copy_rest.start("BookingRoom")))["name"] == "Pick Room"


async def test_class_action_leaves_the_other_processes_alone(
    copy_rest: Rest, processes_dir: Path
) -> None:
    (processes_dir / "LeaveRequest.bpmn").unlink()
    ok(await copy_rest.post("/classAction", json={"processName": "BookingRoom"}))
    await copy_rest.start("LeaveRequest")


async def test_class_action_of_unknown_process_is_not_found(rest: Rest) -> None:
    error(await rest.post("/classAction", json={"processName": "Nope"}), 404, "'Nope'")


async def test_class_action_of_a_process_whose_file_broke_is_bad_input(
    copy_rest: Rest, processes_dir: Path
) -> None:
    (processes_dir / "BookingRoom.bpmn").write_text(BROKEN_XML)
    response = await copy_rest.post("/classAction", json={"processName": "BookingRoom"})
    error(response, 400, "BookingRoom.bpmn")
    await copy_rest.start("BookingRoom")


async def test_class_action_without_process_name_is_bad_input(rest: Rest) -> None:
    error(await rest.post("/classAction", json={}), 400, "processName", "required")


async def test_class_action_with_a_body_that_is_not_an_object_is_bad_input(rest: Rest) -> None:
    error(await rest.post("/classAction", json="BookingRoom"), 400, "JSON object")


def ok_message(response: httpx.Response) -> str:
    ok(response)
    message = response.json()["message"]
    assert isinstance(message, str)
    return message


def test_missing_processes_folder_fails_at_creation(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="missing"):
        create_app(db_path=tmp_path / "db.sqlite3", processes_dir=tmp_path / "missing")


def test_broken_file_at_startup_is_logged(
    tmp_path: Path, processes_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (processes_dir / "Broken.bpmn").write_text(BROKEN_XML)
    app = create_app(db_path=tmp_path / "db.sqlite3", processes_dir=processes_dir)
    app.state.runtime.close()
    assert "Broken.bpmn" in caplog.text


def test_a_folder_parsed_before_is_not_parsed_again_but_an_edit_of_the_same_length_is(
    processes_dir: Path,
) -> None:
    first = Definitions(directory=processes_dir)
    again = Definitions(directory=processes_dir)
    assert again.get("BookingRoom").spec is first.get("BookingRoom").spec  # type: ignore[union-attr]

    _rename_choose_room(processes_dir, "Pick a Room")  # as long as "Choose Room"
    edited = Definitions(directory=processes_dir)
    spec = edited.get("BookingRoom").spec  # type: ignore[union-attr]
    assert spec is not first.get("BookingRoom").spec  # type: ignore[union-attr]
    assert "Pick a Room" in [task.bpmn_name for task in spec.task_specs.values()]
    assert first.refresh().loaded == edited.last_report.loaded
    assert first.get("BookingRoom").spec is spec  # type: ignore[union-attr]
