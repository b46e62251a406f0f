"""The panels: one package each, listed here once (URLs and navigation read it).

A panel's package has ``urls.py`` (``urlpatterns``, with ``app_name`` equal to
its slug), views, forms and templates under ``templates/<group>/<slug>/``.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Panel:
    group: str            # "project" or "admin" (URL prefix and navigation group)
    slug: str             # URL segment and URL namespace
    title: str
    section: str = ""     # sub-heading in the navigation ("Compute", "Network" ...)
    service: str = ""     # catalog type the panel needs ("" = always shown)

    @property
    def module(self) -> str:
        return "dashboard.panels.%s.%s" % (self.group, self.slug)

    @property
    def namespace(self) -> str:
        return "%s-%s" % (self.group, self.slug)

    @property
    def prefix(self) -> str:
        return "/%s/%s/" % (self.group, self.slug)


PANELS: tuple[Panel, ...] = (
    Panel("project", "overview", "Overview", "Compute"),
    Panel("project", "instances", "Instances", "Compute", "compute"),
    Panel("project", "images", "Images", "Compute", "image"),
    Panel("project", "keypairs", "Key Pairs", "Compute", "compute"),
    Panel("project", "volumes", "Volumes", "Volumes", "block-storage"),
    Panel("project", "snapshots", "Snapshots", "Volumes", "block-storage"),
    Panel("project", "backups", "Backups", "Volumes", "block-storage"),
    Panel("project", "topology", "Network Topology", "Network", "network"),
    Panel("project", "networks", "Networks", "Network", "network"),
    Panel("project", "routers", "Routers", "Network", "network"),
    Panel("project", "floating_ips", "Floating IPs", "Network", "network"),
    Panel("project", "security_groups", "Security Groups", "Network", "network"),
    Panel("project", "containers", "Containers", "Object Store", "object-store"),
    Panel("project", "api_access", "API Access", "Access"),
    Panel("admin", "hypervisors", "Hypervisors", "Compute", "compute"),
    Panel("admin", "instances", "All Instances", "Compute", "compute"),
    Panel("admin", "flavors", "Flavors", "Compute", "compute"),
    Panel("admin", "volumes", "All Volumes", "Volumes", "block-storage"),
    Panel("admin", "projects", "Projects", "Identity"),
    Panel("admin", "users", "Users", "Identity"),
    Panel("admin", "roles", "Roles", "Identity"),
    Panel("admin", "services", "System Information", "System"),
    Panel("admin", "quotas", "Default Quotas", "System"),
)


def find(path: str) -> Panel | None:
    for panel in PANELS:
        if path.startswith(panel.prefix):
            return panel
    return None
