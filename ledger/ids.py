"""New identifiers: random in service, reproducible from a seed when a generator asks for them."""

from __future__ import annotations

import contextvars
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

_seeded: contextvars.ContextVar[random.Random | None] = contextvars.ContextVar("ledger_ids", default=None)


def new_id() -> UUID:
    """A version-4 UUID: from the system's randomness, or from the seeded generator inside `seeded()`."""
    rng = _seeded.get()
    return uuid.uuid4() if rng is None else UUID(int=rng.getrandbits(128), version=4)


def chooser() -> random.Random:
    """The randomness for choices such as reference numbers (the seeded one inside `seeded()`)."""
    return _seeded.get() or random.SystemRandom()


@contextmanager
def seeded(seed: int) -> Iterator[random.Random]:
    """Within the block, every new id and random choice the ledger makes follows `seed`: a generated history
    is the same history every time (keys and nonces, which must never repeat, stay truly random)."""
    rng = random.Random(seed)
    token = _seeded.set(rng)
    try:
        yield rng
    finally:
        _seeded.reset(token)
