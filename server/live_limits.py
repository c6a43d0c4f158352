"""Caps on live subscriptions: how many one principal holds in this process, whichever
transport carries them (WebSocket or HTTP multipart).

A subscription holds memory (its last page, for the diff) and a share of each update's
work for as long as it runs, so one client, or one leaked token, must not open them
without bound. Each subscription takes a ``Slot`` when it starts and gives it back when it
ends, however it ends (completed, cancelled, disconnected, dropped):

    slots = SubscriptionSlots(per_principal=50)
    slot = slots.acquire("ann")      # raises TooManySubscriptions over the cap
    ...
    slot.release()                   # idempotent
"""

from __future__ import annotations

from collections import Counter
from typing import Final

__all__ = [
    "DEFAULT_MAX_PER_CONNECTION",
    "DEFAULT_MAX_PER_PRINCIPAL",
    "TOO_MANY_SUBSCRIPTIONS",
    "Slot",
    "SubscriptionSlots",
    "TooManySubscriptions",
]

#: The ``extensions.code`` of a subscription refused for a cap.
TOO_MANY_SUBSCRIPTIONS: Final = "TOO_MANY_SUBSCRIPTIONS"
#: A screen shows a handful of inbox views (one per filter); ten leave room for several.
DEFAULT_MAX_PER_CONNECTION: Final = 10
#: Several tabs and devices of one person, each with a few views, stay well below this.
DEFAULT_MAX_PER_PRINCIPAL: Final = 50


class TooManySubscriptions(Exception):
    """A new subscription would pass a cap: ``limit`` is which (``"connection"`` or
    ``"principal"``), ``max`` its value. The subscriptions already running go on."""

    code: Final = TOO_MANY_SUBSCRIPTIONS

    def __init__(self, *, limit: str, max: int) -> None:
        self.limit = limit
        self.max = max
        self.message = f"too many subscriptions: at most {max} per {limit}"
        super().__init__(self.message)

    @property
    def extensions(self) -> dict[str, object]:
        """The error's ``extensions``, as a client reads them."""
        return {"code": self.code, "limit": self.limit, "max": self.max}


class Slot:
    """One running subscription's place in its principal's count."""

    __slots__ = ("_slots", "_user")

    def __init__(self, slots: SubscriptionSlots, user: str) -> None:
        self._slots: SubscriptionSlots | None = slots
        self._user = user

    def release(self) -> None:
        """Give the place back (a second call does nothing)."""
        if self._slots is not None:
            self._slots._release(self._user)
            self._slots = None


class SubscriptionSlots:
    """The subscriptions each principal holds in this process (one event loop: no lock)."""

    def __init__(self, *, per_principal: int) -> None:
        self.per_principal = per_principal
        self._held: Counter[str] = Counter()

    def acquire(self, user: str) -> Slot:
        """A slot for one more subscription of ``user``; raises ``TooManySubscriptions``."""
        if self._held[user] >= self.per_principal:
            raise TooManySubscriptions(limit="principal", max=self.per_principal)
        self._held[user] += 1
        return Slot(self, user)

    def held(self, user: str) -> int:
        """How many subscriptions ``user`` holds now."""
        return self._held[user]

    def _release(self, user: str) -> None:
        self._held[user] -= 1
        if self._held[user] <= 0:
            del self._held[user]
