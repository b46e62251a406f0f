"""What one scheduling request asks for: the flavor, placement hints and groups.

These are plain typed values. The conductor builds them from the boot request
(resolving instance uuids in ``same_host``/``different_host`` hints to the hosts
those instances run on, and a server group to the hosts of its members) before it
asks the scheduler.
"""
from __future__ import annotations

import collections
import dataclasses
from typing import Mapping

AFFINITY = "affinity"
ANTI_AFFINITY = "anti-affinity"
SOFT_AFFINITY = "soft-affinity"
SOFT_ANTI_AFFINITY = "soft-anti-affinity"
POLICIES = (AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY)


@dataclasses.dataclass(frozen=True)
class Flavor:
    """The resources one instance needs. ``swap`` is in MiB, as in the API."""

    vcpus: int
    memory_mb: int
    root_gb: int = 0
    ephemeral_gb: int = 0
    swap: int = 0
    extra_specs: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def disk_mb(self) -> int:
        """Local disk the instance takes: root, ephemeral and swap, in MiB."""
        return 1024 * (self.root_gb + self.ephemeral_gb) + self.swap


@dataclasses.dataclass
class ServerGroup:
    """A server group and where its members run.

    ``hosts`` holds one entry per member instance (a host appears as often as it
    runs members), so ``max_server_per_host`` can be counted. The scheduler adds
    the hosts it picks while it places several instances of one request.
    """

    uuid: str
    policy: str
    hosts: list[str] = dataclasses.field(default_factory=list)
    rules: Mapping[str, int] = dataclasses.field(default_factory=dict)
    _counts: collections.Counter[str] = dataclasses.field(init=False, repr=False,
                                                          compare=False)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError("unknown server group policy %r" % self.policy)
        self._counts = collections.Counter(self.hosts)

    def members_on(self, host: str) -> int:
        """How many members of the group run on ``host``."""
        return self._counts[host]

    @property
    def max_server_per_host(self) -> int:
        """Members allowed on one host under ``anti-affinity`` (1 unless a rule says)."""
        return int(self.rules.get("max_server_per_host", 1))

    def add_member(self, host: str) -> None:
        """Record that a new member was placed on ``host``."""
        self.hosts.append(host)
        self._counts[host] += 1

    def copy(self) -> ServerGroup:
        return ServerGroup(self.uuid, self.policy, list(self.hosts), dict(self.rules))


@dataclasses.dataclass
class RequestSpec:
    """One boot (or reschedule, or move) request for ``num_instances`` instances.

    ``force_hosts``/``force_nodes`` are the administrator's override: candidates are
    narrowed to them and the filters are skipped. ``ignore_hosts`` lists hosts a
    reschedule already failed on; they are never chosen.
    """

    flavor: Flavor
    num_instances: int = 1
    availability_zone: str | None = None
    project_id: str | None = None
    group: ServerGroup | None = None
    same_host: list[str] = dataclasses.field(default_factory=list)
    different_host: list[str] = dataclasses.field(default_factory=list)
    force_hosts: list[str] = dataclasses.field(default_factory=list)
    force_nodes: list[str] = dataclasses.field(default_factory=list)
    ignore_hosts: list[str] = dataclasses.field(default_factory=list)
    instance_uuids: list[str] = dataclasses.field(default_factory=list)

    def copy(self) -> RequestSpec:
        """A copy whose server group may be updated without touching the caller's."""
        group = self.group.copy() if self.group is not None else None
        return dataclasses.replace(self, group=group)

    @property
    def forced(self) -> bool:
        return bool(self.force_hosts or self.force_nodes)
