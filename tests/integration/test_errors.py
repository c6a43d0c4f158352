"""Top-level BAD_USER_INPUT errors speak GraphQL and name the argument at fault."""

from __future__ import annotations

from .harness import Facade


async def test_empty_group_names_the_group_argument(facade: Facade) -> None:
    reply = await facade.execute('{ tasks(group: "") { totalCount } }', user="ann")
    [error] = reply["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == ["group"]
    assert "`group`" in error["message"]
    assert "query parameter" not in error["message"]


async def test_dot_segment_instance_id_names_the_instance_id_argument(facade: Facade) -> None:
    reply = await facade.execute('{ task(id: "t", instanceId: ".") { id } }', user="ann")
    [error] = reply["errors"]
    assert error["extensions"]["field"] == ["instanceId"]
    assert error["message"].startswith("`instanceId` must not be")


async def test_dot_segment_id_of_instance_names_its_id_argument(facade: Facade) -> None:
    reply = await facade.execute('{ instance(id: "..") { id } }', user="ann")
    [error] = reply["errors"]
    assert error["extensions"]["field"] == ["id"]
    assert error["message"].startswith("`id` must not be")
