"""The per-request DataLoaders: each distinct upstream resource is fetched once per request.

The upstream has no batch endpoints, so a loader fetches its distinct keys
concurrently (the client caps the concurrency), and each key gets its own reply or failure.
With loaders disabled (a setting, for comparison in the benchmark), every field
calls the upstream itself, as a generic REST-to-GraphQL gateway would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from strawberry.dataloader import DataLoader

from backend.models import Task

from .memory import TaskMemory

if TYPE_CHECKING:
    from backend.client import UpstreamClient

__all__ = ["BatchObserver", "Loader", "Loaders", "PrincipalKey", "build_loaders"]

PrincipalKind = Literal["user", "role", "group"]
#: A key of ``tasks_by_principal``: ``("user" | "role" | "group", name)``.
PrincipalKey = tuple[PrincipalKind, str]
#: ``on_batch(loader_name, size)``, called with the size of each batch a loader sends.
BatchObserver = Callable[[str, int], None]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)
V_co = TypeVar("V_co", covariant=True)


class Loader(Protocol[K_contra, V_co]):
    """What resolvers use of a loader: load one key, forget one key or all of them."""

    def load(self, key: K_contra) -> Awaitable[V_co]: ...

    def clear(self, key: K_contra) -> None: ...

    def clear_all(self) -> None: ...


class DirectLoader(Generic[K, V]):
    """A loader that is not one: every load is its own upstream call, nothing is cached."""

    def __init__(self, fetch: Callable[[K], Awaitable[V]]) -> None:
        self._fetch = fetch

    def load(self, key: K) -> Awaitable[V]:
        return self._fetch(key)

    def clear(self, key: K) -> None:
        return None

    def clear_all(self) -> None:
        return None


class CachingLoader(DataLoader[K, V]):
    """A DataLoader whose keys each get their result as their own upstream call returns.

    Keys loaded in the same turn of the event loop form one batch (``on_batch`` hears its
    size), each distinct key is fetched once and cached, as with strawberry's DataLoader.
    But the upstream has no batch endpoint, so a batch is only its keys' calls sent
    together: each key's waiters resume when that key's reply is in, not when the whole
    batch's last reply is (the fields of the first replies complete while the last ones
    are still on the wire). Forgetting a key that was never loaded is no error.
    """

    def __init__(
        self,
        fetch: Callable[[K], Awaitable[V]],
        *,
        name: str,
        on_batch: BatchObserver | None = None,
    ) -> None:
        super().__init__(load_fn=_no_batch_function)
        self._fetch = fetch
        self._name = name
        self._on_batch = on_batch
        self._pending: list[tuple[K, asyncio.Future[V]]] | None = None

    def load(self, key: K) -> Awaitable[V]:
        future = self.cache_map.get(key)
        if future is not None and not future.cancelled():
            return future
        future = self.loop.create_future()
        self.cache_map.set(key, future)
        pending = self._pending
        if pending is None:
            pending = self._pending = []
            self.loop.call_soon(self._dispatch, pending)
        pending.append((key, future))
        return future

    def clear(self, key: K) -> None:
        if self.cache_map.get(key) is not None:
            super().clear(key)

    def _dispatch(self, batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        self._pending = None
        if all(future.cancelled() for _, future in batch):
            return
        if self._on_batch is not None:
            self._on_batch(self._name, len(batch))
        calls = [self.loop.create_task(self._settle(key, future)) for key, future in batch]

        def cancelled(_: asyncio.Future[V]) -> None:
            # No one waits for any key of the batch any more: stop its calls.
            if all(future.cancelled() for _, future in batch):
                for call in calls:
                    call.cancel()

        for _, future in batch:
            future.add_done_callback(cancelled)

    async def _settle(self, key: K, future: asyncio.Future[V]) -> None:
        try:
            value = await self._fetch(key)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:  # the key's own failure, for its own waiters
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(value)


async def _no_batch_function(keys: list[Any]) -> list[Any]:  # pragma: no cover
    raise NotImplementedError("CachingLoader fetches each key itself")


@dataclass(frozen=True, slots=True)
class Loaders:
    """The three loaders of one request: a principal's tasks, an instance's tasks, a task's variables."""

    tasks_by_principal: Loader[PrincipalKey, list[Task]]
    tasks_by_instance: Loader[str, list[Task]]
    variables_by_task: Loader[str, dict[str, Any]]

    def clear_lists(self) -> None:
        """Forget every principal's task list."""
        self.tasks_by_principal.clear_all()

    def clear_everything(self) -> None:
        """Forget all that this request has loaded."""
        self.tasks_by_principal.clear_all()
        self.tasks_by_instance.clear_all()
        self.variables_by_task.clear_all()


def build_loaders(
    client: UpstreamClient,
    *,
    headers: Mapping[str, str],
    memory: TaskMemory,
    enabled: bool = True,
    on_batch: BatchObserver | None = None,
) -> Loaders:
    """A fresh set of loaders bound to one request's credentials.

    ``on_batch`` hears the size of every batch (for metrics); direct loaders send none.

    >>> loaders = build_loaders(client, headers={"Authorization": "Bearer x"}, memory=memory)
    """

    async def principal_tasks(key: PrincipalKey) -> list[Task]:
        kind, name = key
        tasks = await client.tasks(**{kind: name}, headers=headers)
        memory.remember_all(tasks)
        return tasks

    async def instance_tasks(instance_id: str) -> list[Task]:
        tasks = await client.instance_tasks(instance_id, headers=headers)
        memory.remember_all(tasks)
        return tasks

    async def task_variables(task_id: str) -> dict[str, Any]:
        return await client.task_variables(task_id, headers=headers)

    if not enabled:
        return Loaders(
            tasks_by_principal=DirectLoader(principal_tasks),
            tasks_by_instance=DirectLoader(instance_tasks),
            variables_by_task=DirectLoader(task_variables),
        )
    return Loaders(
        tasks_by_principal=CachingLoader(
            principal_tasks, name="tasks_by_principal", on_batch=on_batch
        ),
        tasks_by_instance=CachingLoader(
            instance_tasks, name="tasks_by_instance", on_batch=on_batch
        ),
        variables_by_task=CachingLoader(
            task_variables, name="variables_by_task", on_batch=on_batch
        ),
    )
