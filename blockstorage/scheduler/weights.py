"""Ordering the backends that passed the filters: most free capacity first.

The free capacity is the virtual one: for a thin backend (and a volume that
does not ask for thick provisioning) ``total * max_over_subscription_ratio -
provisioned - reserved``, else ``free - reserved``. A backend that reports
``infinite``/``unknown`` sorts first/last as Cinder's weigher does. Ties keep
the host names' order, so a decision is reproducible.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from blockstorage.scheduler.filters import BackendState, RequestSpec

_INFINITE = float("inf")


class Weigher(Protocol):
    name: str

    def weigh(self, backend: BackendState, spec: RequestSpec) -> float: ...


class CapacityWeigher:
    """The virtual free capacity in GiB (higher wins)."""

    name = "CapacityWeigher"

    def weigh(self, backend: BackendState, spec: RequestSpec) -> float:
        raw_free = backend.capabilities.get("free_capacity_gb")
        if raw_free == "infinite":
            return _INFINITE
        total, free = backend.total_gb, backend.free_gb
        if total is None or free is None:
            return -_INFINITE
        thick = str(spec.extra_specs.get("provisioning:type", "")).lower() == "thick"
        if backend.thin and not thick:
            return (total * backend.max_over_subscription_ratio - backend.provisioned_gb
                    - backend.reserved_gb)
        return free - backend.reserved_gb


WEIGHERS: dict[str, type[Weigher]] = {CapacityWeigher.name: CapacityWeigher}
DEFAULT_WEIGHERS = [CapacityWeigher.name]


def get_weighers(names: Iterable[str]) -> list[Weigher]:
    """:raises: ValueError for an unknown name."""
    chosen: list[Weigher] = []
    for name in names:
        if name not in WEIGHERS:
            raise ValueError("unknown scheduler weigher %r (known: %s)"
                             % (name, ", ".join(sorted(WEIGHERS))))
        chosen.append(WEIGHERS[name]())
    return chosen


def order(weighers: Sequence[Weigher], backends: Sequence[BackendState],
          spec: RequestSpec) -> list[BackendState]:
    """``backends`` best first: by the sum of the weighers' values, then host name."""
    def key(backend: BackendState) -> tuple[float, str]:
        return (-sum(w.weigh(backend, spec) for w in weighers), backend.host)

    return sorted(backends, key=key)
