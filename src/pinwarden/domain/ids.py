"""Ids for new records: random UUIDs, or, inside `seeded(seed)`, the same ones every run.

The simulation runs under a seed so the same seed gives the same report: locks that wake at
the same moment are taken in id order, so random ids would change the order from run to run.
The source is a context variable, not a global: a seeded run changes nothing for the server
or for other threads.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_source: ContextVar[Callable[[], str] | None] = ContextVar("pinwarden_ids", default=None)


def new_id() -> str:
    source = _source.get()
    return str(uuid.uuid4()) if source is None else source()


@contextmanager
def seeded(seed: int | random.Random) -> Iterator[None]:
    """New ids in this context come from `seed` (valid version-4 UUIDs). Pass the same
    `random.Random` to several contexts to continue one sequence across them."""
    rng = seed if isinstance(seed, random.Random) else random.Random(f"ids:{seed}")
    token = _source.set(lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    try:
        yield
    finally:
        _source.reset(token)


__all__ = ["new_id", "seeded"]
