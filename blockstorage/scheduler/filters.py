"""The backends a volume may go to, and the filters that remove the others.

A :class:`BackendState` is one volume daemon's last capacity report (its
``services.capabilities``, minus what this scheduler placed since that report);
a :class:`RequestSpec` is what one volume needs. Filters are small objects with
a ``name`` and ``passes(backend, spec)``; :func:`run_filters` applies the ones
``[scheduler] scheduler_default_filters`` names and keeps, per filter, how many
backends it removed so a failure can say why.

Extra specs are matched the way Cinder matches them: keys scoped
``capabilities:`` (scope dropped, nested keys ``capabilities:a:b`` walk into
dicts) and unscoped keys are compared to the report; other scopes (``qos:``,
``provisioning:``, ``RESKEY:`` …) are for other parts and skipped. Values may
carry an operator (:func:`match`).
"""
from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

# -- what one volume needs, what one backend has --------------------------------------


@dataclasses.dataclass
class RequestSpec:
    """One placement request (one volume, or the growth of one)."""

    volume_id: str
    size: int
    availability_zone: str | None = None
    extra_specs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    retry_hosts: Sequence[str] = ()
    #: A volume from a snapshot or a clone must stay on its source's backend.
    required_backend: str | None = None


@dataclasses.dataclass
class BackendState:
    """One backend (``<host>@<backend>``, one pool) as the scheduler sees it."""

    host: str
    availability_zone: str
    capabilities: dict[str, Any]
    #: GiB placed here by this scheduler since the backend's last report.
    consumed_gb: int = 0

    @property
    def pool(self) -> str:
        return str(self.capabilities.get("pool_name")
                   or self.capabilities.get("volume_backend_name")
                   or self.host.partition("@")[2] or "default")

    @property
    def backend_id(self) -> str:
        """What goes into ``volumes.host``: ``<host>@<backend>#<pool>``."""
        return "%s#%s" % (self.host, self.pool)

    def _number(self, key: str) -> float | None:
        value = self.capabilities.get(key)
        if value in (None, "infinite", "unknown"):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    @property
    def total_gb(self) -> float | None:
        return self._number("total_capacity_gb")

    @property
    def free_gb(self) -> float | None:
        """Free space: what the backend reported, less what was scheduled since on a
        thick backend (a thin one uses space only as data is written)."""
        free = self._number("free_capacity_gb")
        if free is None:
            return None
        return free if self.thin else free - self.consumed_gb

    @property
    def provisioned_gb(self) -> float:
        value = self._number("provisioned_capacity_gb")
        if value is None:
            value = self._number("allocated_capacity_gb") or 0.0
        return value + self.consumed_gb

    @property
    def reserved_gb(self) -> float:
        total = self.total_gb or 0.0
        return math.floor(total * float(self.capabilities.get("reserved_percentage") or 0)
                          / 100.0)

    @property
    def max_over_subscription_ratio(self) -> float:
        return float(self._number("max_over_subscription_ratio") or 1.0)

    @property
    def thin(self) -> bool:
        return _true(self.capabilities.get("thin_provisioning_support"))


def _true(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on", "<is> true")


# -- extra spec operators ---------------------------------------------------------------

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.ge, "==": operator.eq, "!=": operator.ne,
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_STRING: dict[str, Callable[[str, str], bool]] = {
    "s==": operator.eq, "s!=": operator.ne, "s<": operator.lt, "s<=": operator.le,
    "s>": operator.gt, "s>=": operator.ge}


def _contains(value: Any, word: str) -> bool:
    if isinstance(value, (list, tuple, set, frozenset)):
        return word in value
    return word in str(value)


def match(value: Any, requirement: str) -> bool:
    """Whether the reported ``value`` meets the extra spec ``requirement``.

    ``<is> True``/``<is> False`` (booleans), ``= 10`` (at least), ``== ``,
    ``!=``, ``>=``, ``<=``, ``>``, ``<`` (numbers), ``s==`` … (strings),
    ``<in> word``, ``<all-in> a b``, ``<or> a <or> b``; anything else is
    string equality (booleans compare as ``True``/``False``, any case).
    """
    words = str(requirement).split()
    if not words:
        return str(value) == str(requirement)
    op, args = words[0], words[1:]
    if op == "<is>":
        return len(args) == 1 and _true(value) == _true(args[0])
    if op in _NUMERIC:
        try:
            return len(args) == 1 and _NUMERIC[op](float(value), float(args[0]))
        except (TypeError, ValueError):
            return False
    if op in _STRING:
        return len(args) == 1 and _STRING[op](str(value), args[0])
    if op == "<in>":
        return len(args) == 1 and _contains(value, args[0])
    if op == "<all-in>":
        return bool(args) and all(_contains(value, word) for word in args)
    if op == "<or>":
        return str(value) in [word for word in args if word != "<or>"]
    if isinstance(value, bool):
        return str(value).lower() == str(requirement).strip().lower()
    return str(value) == str(requirement)


def _capability(capabilities: Mapping[str, Any], key: str) -> Any:
    value: Any = capabilities
    for part in key.split(":"):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def capability_keys(extra_specs: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """The (capability key, requirement) pairs of the extra specs the scheduler checks."""
    for key, requirement in extra_specs.items():
        scope, _, rest = key.partition(":")
        if not rest:
            yield key, requirement
        elif scope == "capabilities":
            yield rest, requirement


# -- the filters ----------------------------------------------------------------------


class Filter(Protocol):
    name: str

    def passes(self, backend: BackendState, spec: RequestSpec) -> bool: ...


class AvailabilityZoneFilter:
    """The backend's service is in the volume's availability zone."""

    name = "AvailabilityZoneFilter"

    def passes(self, backend: BackendState, spec: RequestSpec) -> bool:
        return not spec.availability_zone or \
            backend.availability_zone == spec.availability_zone


class CapacityFilter:
    """Room for ``spec.size`` GiB, keeping the reserved share free; thin backends
    may over-subscribe up to their ``max_over_subscription_ratio``."""

    name = "CapacityFilter"

    def passes(self, backend: BackendState, spec: RequestSpec) -> bool:
        total, free = backend.total_gb, backend.free_gb
        if total is None or free is None:
            return True  # "infinite"/"unknown": the backend cannot say, accept
        if total <= 0:
            return False
        free_after_reserve = free - backend.reserved_gb
        thick_wanted = str(spec.extra_specs.get("provisioning:type", "")).lower() == "thick"
        ratio = backend.max_over_subscription_ratio
        if backend.thin and not thick_wanted and ratio >= 1:
            provisioned_ratio = (backend.provisioned_gb + spec.size) / total
            if provisioned_ratio > ratio:
                return False
            return free_after_reserve > 0 and free_after_reserve * ratio >= spec.size
        return free_after_reserve >= spec.size


class CapabilitiesFilter:
    """Every checked extra spec of the volume type is met by the report."""

    name = "CapabilitiesFilter"

    def passes(self, backend: BackendState, spec: RequestSpec) -> bool:
        caps = dict(backend.capabilities)
        caps.setdefault("volume_backend_name", backend.pool)
        for key, requirement in capability_keys(spec.extra_specs):
            value = _capability(caps, key)
            if value is None or not match(value, requirement):
                return False
        return True


class RetryFilter:
    """Not a backend an earlier attempt of this volume failed on."""

    name = "RetryFilter"

    def passes(self, backend: BackendState, spec: RequestSpec) -> bool:
        tried = {h.partition("#")[0] for h in spec.retry_hosts}
        return backend.host not in tried


class SameBackendFilter:
    """Volumes from snapshots and clones stay on their source's backend (the
    drivers copy locally). Always on, whatever the configuration says."""

    name = "SameBackendFilter"

    def passes(self, backend: BackendState, spec: RequestSpec) -> bool:
        required = spec.required_backend
        return not required or backend.host == required.partition("#")[0]


FILTERS: dict[str, type[Filter]] = {cls.name: cls for cls in (
    AvailabilityZoneFilter, CapacityFilter, CapabilitiesFilter, RetryFilter,
    SameBackendFilter)}
DEFAULT_FILTERS = ["AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter",
                   "RetryFilter"]


def get_filters(names: Iterable[str]) -> list[Filter]:
    """The filters named (unknown names raise ValueError), then SameBackendFilter."""
    chosen: list[Filter] = []
    for name in names:
        if name not in FILTERS:
            raise ValueError("unknown scheduler filter %r (known: %s)"
                             % (name, ", ".join(sorted(FILTERS))))
        chosen.append(FILTERS[name]())
    if not any(f.name == SameBackendFilter.name for f in chosen):
        chosen.append(SameBackendFilter())
    return chosen


@dataclasses.dataclass
class FilterResult:
    """The backends left, and per filter how many it removed of how many it saw."""

    backends: list[BackendState]
    removed: list[tuple[str, int, int]]

    def reason(self, spec: RequestSpec) -> str:
        """One sentence for the operator: which filter removed how many backends."""
        if not self.removed:
            return "No volume backend service is up and enabled."
        parts = ["%s removed %d of %d" % (name, gone, seen)
                 for name, gone, seen in self.removed if gone]
        return "Filters removed backends for a %d GiB volume: %s." % (
            spec.size, "; ".join(parts) or "none")


def run_filters(filters: Sequence[Filter], backends: Sequence[BackendState],
                spec: RequestSpec) -> FilterResult:
    """Apply ``filters`` in order; stop early when nothing is left."""
    left = list(backends)
    removed: list[tuple[str, int, int]] = []
    if not left:
        return FilterResult([], [])
    for flt in filters:
        kept = [b for b in left if flt.passes(b, spec)]
        removed.append((flt.name, len(left) - len(kept), len(left)))
        left = kept
        if not left:
            break
    return FilterResult(left, removed)
