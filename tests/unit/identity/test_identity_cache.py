"""The validation cache: time-to-live, invalidation, and the load/invalidate race."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from identity.service import cache as cache_mod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(cache_mod.time, "monotonic", fake)
    return fake


def counting(value: Any = "v") -> tuple[Callable[[], Any], list[int]]:
    calls: list[int] = []

    def load() -> Any:
        calls.append(1)
        return value
    return load, calls


def test_hit_within_ttl(clock: Clock) -> None:
    cache = cache_mod.Cache(ttl=2)
    load, calls = counting("a")
    assert cache.get_or_load("k", load) == "a"
    clock.now += 1.9
    assert cache.get_or_load("k", load) == "a"
    assert len(calls) == 1


def test_expires_after_ttl(clock: Clock) -> None:
    cache = cache_mod.Cache(ttl=2)
    load, calls = counting()
    cache.get_or_load("k", load)
    clock.now += 2.0
    cache.get_or_load("k", load)
    assert len(calls) == 2


def test_keys_are_independent(clock: Clock) -> None:
    cache = cache_mod.Cache(ttl=10)
    assert cache.get_or_load(("user", 1), lambda: "one") == "one"
    assert cache.get_or_load(("user", 2), lambda: "two") == "two"
    assert cache.get_or_load(("user", 1), lambda: "other") == "one"


def test_zero_ttl_disables_caching(clock: Clock) -> None:
    cache = cache_mod.Cache(ttl=0)
    load, calls = counting()
    for _ in range(3):
        cache.get_or_load("k", load)
    assert len(calls) == 3


def test_invalidate_drops_everything(clock: Clock) -> None:
    cache = cache_mod.Cache(ttl=60)
    load, calls = counting()
    cache.get_or_load("a", load)
    cache.get_or_load("b", load)
    cache.invalidate()
    cache.get_or_load("a", load)
    cache.get_or_load("b", load)
    assert len(calls) == 4


def test_errors_are_not_cached(clock: Clock) -> None:
    cache = cache_mod.Cache(ttl=60)

    def fail() -> Any:
        raise LookupError("gone")
    with pytest.raises(LookupError):
        cache.get_or_load("k", fail)
    assert cache.get_or_load("k", lambda: "back") == "back"


def test_value_loaded_across_an_invalidation_is_not_kept(clock: Clock) -> None:
    """A write (invalidate) during a load means the loaded value may be stale: it is
    returned to its caller but not cached."""
    cache = cache_mod.Cache(ttl=60)

    def racing_load() -> str:
        cache.invalidate()  # another thread writes while we read
        return "stale"
    assert cache.get_or_load("k", racing_load) == "stale"
    assert cache.get_or_load("k", lambda: "fresh") == "fresh"
    assert cache.get_or_load("k", lambda: "later") == "fresh"


def test_entry_from_an_older_generation_is_not_served(clock: Clock) -> None:
    cache = cache_mod.Cache(ttl=60)
    cache.get_or_load("k", lambda: "old")
    cache.invalidate()
    assert cache.get_or_load("k", lambda: "new") == "new"


def test_max_entries_bounds_memory(clock: Clock) -> None:
    cache = cache_mod.Cache(ttl=60, max_entries=3)
    for key in range(10):
        cache.get_or_load(key, counting(key)[0])
    assert len(cache._data) <= 3
    load, calls = counting(9)
    assert cache.get_or_load(9, load) == 9
