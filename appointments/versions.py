"""Version counters that let polling phones and tablets learn "nothing changed" for free.

Every service that changes rooms, visits, pages or reservations bumps counters after its
transaction commits. A poll sends back the version it shows; when it is still current
the answer is a bodiless 204, decided from the cache alone, without a query beyond the
signed-in user with their staff record.

Counters, by who needs to redraw:
- `store_key`: anything in the store changed (the room board);
- `room_key`: this room's visit or pages changed (its tablet, its page);
- `pages_key`: a page every associate of the store sees changed (sent to everyone,
  escalated, or taken or closed after that);
- `staff_key`: a page for one associate changed (paged to them first, or taken by them).
An associate's pager shows `pages_key` and their `staff_key` together: a page that goes
to the associate who brought the client wakes that one phone, not the fifty others.

Counters live in the shared cache (Redis in production and tests), never expire, and
start from the clock in microseconds: if the cache is emptied, a counter restarts above
any value a phone could hold, so a stale phone always sees a change.

Order matters: a reader takes the version *before* reading rows, a writer bumps *after*
its commit. A poll racing a write then shows either the new rows, or the old rows with
the old version, which the next poll corrects.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction


def store_key(store_id: int) -> str:
    return f"rooms:v:store:{store_id}"


def room_key(room_id: int) -> str:
    return f"rooms:v:room:{room_id}"


def pages_key(store_id: int) -> str:
    return f"rooms:v:pages:{store_id}"


def staff_key(staff_id: int) -> str:
    return f"rooms:v:staff:{staff_id}"


def _seed() -> int:
    return time.time_ns() // 1000


def read_many(keys: list[str]) -> list[int]:
    """Current versions under `keys` (one round trip), creating counters the cache lost."""
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    for key in missing:
        cache.add(key, _seed(), timeout=None)
    if missing:
        found.update(cache.get_many(missing))
    return [int(found.get(key, 0)) for key in keys]


def read(key: str) -> int:
    return read_many([key])[0]


def pager_version(*, store_id: int, staff_id: int) -> str:
    """What an associate's pager shows: the store's shared pages and their own, as one."""
    shared, own = read_many([pages_key(store_id), staff_key(staff_id)])
    return f"{shared}.{own}"


def bump(keys: Iterable[str]) -> None:
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:  # no counter yet (or the cache was emptied): start one
            cache.add(key, _seed(), timeout=None)


def bump_on_commit(
    *,
    store_id: int,
    room_ids: Iterable[int] = (),
    staff_ids: Iterable[int | None] = (),
    everyone: bool = False,
) -> None:
    """After the current transaction commits, bump the store's counter (the board), these
    rooms', these associates' pagers and, with `everyone`, every pager of the store."""
    keys = [store_key(store_id)]
    keys += [room_key(room_id) for room_id in set(room_ids)]
    keys += [staff_key(staff_id) for staff_id in set(staff_ids) if staff_id]
    if everyone:
        keys.append(pages_key(store_id))
    transaction.on_commit(lambda: bump(keys))
