"""Idempotent first set-up of a cloud's identity: default domain, admin, roles,
region and the identity service's own catalog entries."""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

from identity import exception
from identity.db import models as M

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class BootstrapSpec:
    password: str
    username: str = "admin"
    project_name: str = "admin"
    role_name: str = "admin"
    region_id: str | None = "RegionOne"
    public_url: str | None = None
    internal_url: str | None = None
    admin_url: str | None = None
    service_name: str = "keystone"


def bootstrap(app: Any, spec: BootstrapSpec) -> dict[str, str]:
    """Create (or repair) the bootstrap entities; returns their ids."""
    domain_id = app.conf.identity.default_domain_id
    try:
        app.resources.get_domain(domain_id)
    except exception.NotFound:
        app.resources.create_domain({"name": "Default", "description": "The default domain",
                                     "enabled": True}, domain_id)
    found = app.resources.list_projects(name=spec.project_name, domain_id=domain_id)
    project = found[0] if found else app.resources.create_project(
        {"name": spec.project_name, "domain_id": domain_id, "description": "Bootstrap project"})
    roles = _roles(app, spec.role_name)
    try:
        user = app.users.find_user(spec.username, domain_id)
        app.users.update_user(user.id, {"password": spec.password, "enabled": True})
    except exception.NotFound:
        user = app.users.create_user({"name": spec.username, "domain_id": domain_id,
                                      "password": spec.password, "enabled": True})
    admin_id = roles[spec.role_name]
    app.assignments.grant(M.USER_PROJECT, user.id, project.id, admin_id)
    app.assignments.grant(M.USER_SYSTEM, user.id, M.SYSTEM_TARGET, admin_id)
    app.assignments.grant(M.USER_DOMAIN, user.id, domain_id, admin_id)
    if spec.region_id:
        try:
            app.catalogs.get_region(spec.region_id)
        except exception.NotFound:
            app.catalogs.create_region({"id": spec.region_id})
    if spec.public_url:
        _catalog(app, spec)
    return {"domain_id": domain_id, "project_id": project.id, "user_id": user.id,
            "role_id": admin_id}


def _roles(app: Any, admin_name: str) -> dict[str, str]:
    """admin implies member implies reader; returns name -> id."""
    ids: dict[str, str] = {}
    for name in (admin_name, "member", "reader", "service"):
        role = app.assignments.find_role(name)
        if role is None:
            role = app.assignments.create_role({"name": name})
        ids[name] = role.id
    app.assignments.create_implied(ids[admin_name], ids["member"])
    app.assignments.create_implied(ids["member"], ids["reader"])
    return ids


def _catalog(app: Any, spec: BootstrapSpec) -> None:
    services = app.catalogs.list_services(type="identity")
    service = services[0] if services else app.catalogs.create_service(
        {"type": "identity", "name": spec.service_name,
         "description": "Stratus identity service"})
    existing = {(e.interface, e.region_id): e
                for e in app.catalogs.list_endpoints(service_id=service.id)}
    for interface, url in (("public", spec.public_url), ("internal", spec.internal_url
                                                         or spec.public_url),
                           ("admin", spec.admin_url or spec.public_url)):
        current = existing.get((interface, spec.region_id))
        if current is None:
            app.catalogs.create_endpoint({"service_id": service.id, "interface": interface,
                                          "url": url, "region_id": spec.region_id})
        elif current.url != url:
            app.catalogs.update_endpoint(current.id, {"url": url})
