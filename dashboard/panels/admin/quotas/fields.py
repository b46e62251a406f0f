"""Quota limits per service: which ones the dashboard shows and edits, how they
are read and written through openstacksdk, and the sectioned form that edits
them (a project's quotas, or the defaults)."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from django import forms

from dashboard import errors
from dashboard.ui import format as fmt

MAX_LIMIT = 0x7FFFFFFF
UNLIMITED_HELP = "-1 = unlimited"


@dataclasses.dataclass(frozen=True)
class Quota:
    name: str            # form field name and SDK attribute
    label: str
    editable: bool = True


@dataclasses.dataclass(frozen=True)
class Service:
    key: str             # catalog type (request.stratus_user.services)
    title: str
    quotas: tuple[Quota, ...]

    @property
    def editable(self) -> tuple[Quota, ...]:
        return tuple(q for q in self.quotas if q.editable)


COMPUTE = Service("compute", "Compute", (
    Quota("instances", "Instances"), Quota("cores", "VCPUs"), Quota("ram", "RAM (MiB)"),
    Quota("key_pairs", "Key Pairs"), Quota("server_groups", "Server Groups"),
    Quota("server_group_members", "Server Group Members", False),
    Quota("metadata_items", "Metadata Items", False),
    Quota("injected_files", "Injected Files", False),
    Quota("injected_file_content_bytes", "Injected File Content (bytes)", False),
    Quota("injected_file_path_bytes", "Injected File Path (bytes)", False)))
VOLUME = Service("block-storage", "Volume", (
    Quota("volumes", "Volumes"), Quota("gigabytes", "Volume Storage (GiB)"),
    Quota("snapshots", "Volume Snapshots"), Quota("backups", "Volume Backups"),
    Quota("backup_gigabytes", "Backup Storage (GiB)", False),
    Quota("groups", "Volume Groups", False),
    Quota("per_volume_gigabytes", "Per Volume Size (GiB)", False)))
NETWORK = Service("network", "Network", (
    Quota("networks", "Networks"), Quota("subnets", "Subnets"), Quota("ports", "Ports"),
    Quota("routers", "Routers"), Quota("floating_ips", "Floating IPs"),
    Quota("security_groups", "Security Groups"),
    Quota("security_group_rules", "Security Group Rules"),
    Quota("subnet_pools", "Subnet Pools", False)))
SERVICES: tuple[Service, ...] = (COMPUTE, VOLUME, NETWORK)


def shown(value: Any) -> str:
    """A limit as people read it (-1 is unlimited)."""
    if value is None or value == "":
        return "-"
    return "unlimited" if int(value) < 0 else str(value)


def values(resource: Any, service: Service) -> dict[str, Any]:
    return {q.name: fmt.get(resource, q.name) for q in service.quotas}


# -- reading and writing a project's limits ---------------------------------

def read_project(conn: Any, service: Service, project_id: str) -> dict[str, Any]:
    if service is COMPUTE:
        return values(conn.compute.get_quota_set(project_id), service)
    if service is VOLUME:
        return values(conn.block_storage.get_quota_set(project_id), service)
    return values(conn.network.get_quota(project_id), service)


def write_project(conn: Any, service: Service, project_id: str, changes: dict[str, int]) -> None:
    if service is COMPUTE:
        conn.compute.update_quota_set(project_id, **changes)
    elif service is VOLUME:
        conn.block_storage.update_quota_set(project_id, **changes)
    else:
        conn.network.update_quota(project_id, **changes)


def read_defaults(conn: Any, service: Service, project_id: str) -> dict[str, Any]:
    """The defaults a new project gets (``project_id`` only names the URL)."""
    if service is COMPUTE:
        return values(conn.compute.get_quota_set_defaults(project_id), service)
    if service is VOLUME:
        return values(conn.block_storage.get_quota_set_defaults(project_id), service)
    return values(conn.network.get_quota_default(project_id), service)


# -- the sectioned form ------------------------------------------------------

def limit_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=-1, max_value=MAX_LIMIT,
                              help_text=UNLIMITED_HELP,
                              widget=forms.NumberInput(attrs={"min": -1, "step": 1}))


class QuotaForm(forms.Form):
    """One integer field per editable limit of ``services``, prefilled with
    ``current`` (service key → values)."""

    def __init__(self, data: Any, services: list[Service],
                 current: dict[str, dict[str, Any]]) -> None:
        initial = {name: value for vals in current.values() for name, value in vals.items()}
        super().__init__(data, initial=initial)
        self.services = services
        for service in services:
            for quota in service.editable:
                self.fields[quota.name] = limit_field(quota.label)

    def sections(self) -> list[dict[str, Any]]:
        return [{"key": s.key, "title": s.title,
                 "fields": [self[q.name] for q in s.editable]} for s in self.services]

    def changes(self, service: Service) -> dict[str, int]:
        """What the user changed in ``service``'s section."""
        changed = set(self.changed_data)
        return {q.name: self.cleaned_data[q.name] for q in service.editable
                if q.name in changed}


def load(services: list[Service], read: Callable[[Service], dict[str, Any]]
         ) -> tuple[list[Service], dict[str, dict[str, Any]], dict[str, str]]:
    """Read each service's current limits: the services that answered, their
    values, and each refusal's message (by service key)."""
    ready, current, problems = [], {}, {}
    for service in services:
        try:
            current[service.key] = read(service)
        except errors.API_ERRORS as err:
            problems[service.key] = errors.message(err)
        else:
            ready.append(service)
    return ready, current, problems


def save(form: QuotaForm, write: Callable[[Service, dict[str, int]], None]
         ) -> tuple[list[str], dict[str, str]]:
    """Write each section's changes: the titles of the services changed, and
    each refusal's message (by service key)."""
    done, problems = [], {}
    for service in form.services:
        changes = form.changes(service)
        if not changes:
            continue
        try:
            write(service, changes)
        except errors.API_ERRORS as err:
            problems[service.key] = errors.message(err)
        else:
            done.append(service.title)
    return done, problems


def in_catalog(user: Any) -> list[Service]:
    return [s for s in SERVICES if s.key in user.services]
