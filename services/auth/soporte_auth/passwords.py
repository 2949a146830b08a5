"""Password hashing: Argon2id (memory-hard) through pwdlib, with its recommended parameters.

Hashing is deliberately expensive, so it runs on a small pool of threads of its own, and
each client address gets at most `hashes_per_address` of them at a time: a flood of logins
from one address queues behind itself, while other addresses' logins wait for at most one
hash per busy address (docs/operations.md, "Edge limits"). An address with
`WAITING_PER_SLOT` times that many already waiting is told to slow down at once
(AddressBusyError) rather than kept waiting past the request deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the username does not exist, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("soporte-timing-equaliser")

# The stored "hash" of an account that has no password (a website visitor): no password
# matches it, at the same cost as a wrong one.
NO_PASSWORD = "!"

T = TypeVar("T")
WAITING_PER_SLOT = 4


class AddressBusyError(Exception):
    """This address already has as many password checks under way as it may."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new hash if the stored one should be upgraded)."""
    if stored_hash is None or stored_hash == NO_PASSWORD:
        _hasher.verify(password, _DUMMY_HASH)
        return False, None
    return _hasher.verify_and_update(password, stored_hash)


class Hashing:
    """Runs hashes on `threads` threads, at most `per_address` at once for one address."""

    def __init__(self, *, threads: int, per_address: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self.per_address = per_address
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, int] = {}

    async def hash(self, address: str, password: str) -> str:
        return await self._run(address, hash_password, password)

    async def verify(
        self, address: str, password: str, stored_hash: str | None
    ) -> tuple[bool, str | None]:
        return await self._run(address, verify_password, password, stored_hash)

    async def _run(self, address: str, work: Callable[..., T], *args: object) -> T:
        if self._waiting.get(address, 0) >= self.per_address * (1 + WAITING_PER_SLOT):
            raise AddressBusyError(address)
        with self._gate(address) as gate:
            async with gate:
                return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    @contextmanager
    def _gate(self, address: str) -> Iterator[asyncio.Semaphore]:
        """The address's semaphore, forgotten once nobody from there is hashing or waiting
        (the table never grows with the number of addresses ever seen)."""
        gate = self._gates.setdefault(address, asyncio.Semaphore(self.per_address))
        self._waiting[address] = self._waiting.get(address, 0) + 1
        try:
            yield gate
        finally:
            self._waiting[address] -= 1
            if not self._waiting[address]:
                del self._waiting[address], self._gates[address]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
