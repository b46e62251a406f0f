"""Response bodies for identity entities (no DB access here)."""
from __future__ import annotations

import datetime
from typing import Any



def iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def iso_z(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "000Z"


def _links(base: str, path: str) -> dict[str, str]:
    return {"self": "%s/v3/%s" % (base, path)}


def domain(base: str, d: Any) -> dict[str, Any]:
    return {**(d.extra or {}), "id": d.id, "name": d.name, "description": d.description or "",
            "enabled": d.enabled, "tags": [], "options": {},
            "links": _links(base, "domains/" + d.id)}


def project(base: str, p: Any) -> dict[str, Any]:
    return {**(p.extra or {}), "id": p.id, "name": p.name, "domain_id": p.domain_id,
            "parent_id": p.parent_id or p.domain_id, "is_domain": False,
            "description": p.description or "", "enabled": p.enabled,
            "tags": sorted(t.name for t in p.tags), "options": {},
            "links": _links(base, "projects/" + p.id)}


def domain_as_project(base: str, d: Any) -> dict[str, Any]:
    """A domain seen through the projects API (``is_domain`` true), as Keystone shows it."""
    return {**(d.extra or {}), "id": d.id, "name": d.name, "domain_id": None,
            "parent_id": None, "is_domain": True, "description": d.description or "",
            "enabled": d.enabled, "tags": [], "options": {},
            "links": _links(base, "projects/" + d.id)}


def user(base: str, u: Any) -> dict[str, Any]:
    body = {**(u.extra or {}), "id": u.id, "name": u.name, "domain_id": u.domain_id,
            "enabled": u.enabled, "password_expires_at": iso(u.password_expires_at),
            "options": dict(u.options or {}), "links": _links(base, "users/" + u.id)}
    if u.default_project_id:
        body["default_project_id"] = u.default_project_id
    return body


def group(base: str, g: Any) -> dict[str, Any]:
    return {**(g.extra or {}), "id": g.id, "name": g.name, "domain_id": g.domain_id,
            "description": g.description or "", "links": _links(base, "groups/" + g.id)}


def role(base: str, r: Any) -> dict[str, Any]:
    body = {**(r.extra or {}), "id": r.id, "name": r.name, "domain_id": r.domain_id,
            "options": dict(r.options or {}), "links": _links(base, "roles/" + r.id)}
    body["description"] = r.description
    return body


def role_ref(base: str, r: Any) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "links": _links(base, "roles/" + r.id)}


def region(base: str, r: Any) -> dict[str, Any]:
    return {**(r.extra or {}), "id": r.id, "description": r.description or "",
            "parent_region_id": r.parent_region_id, "links": _links(base, "regions/" + r.id)}


def service(base: str, s: Any) -> dict[str, Any]:
    return {**(s.extra or {}), "id": s.id, "type": s.type, "enabled": s.enabled,
            "links": _links(base, "services/" + s.id)}


def endpoint(base: str, e: Any) -> dict[str, Any]:
    return {**(e.extra or {}), "id": e.id, "interface": e.interface, "region": e.region_id,
            "region_id": e.region_id, "url": e.url, "service_id": e.service_id,
            "enabled": e.enabled, "links": _links(base, "endpoints/" + e.id)}


def credential(base: str, c: Any) -> dict[str, Any]:
    return {**(c.extra or {}), "id": c.id, "user_id": c.user_id, "project_id": c.project_id,
            "type": c.type, "blob": c.blob, "links": _links(base, "credentials/" + c.id)}


def access_rule(base: str, r: Any) -> dict[str, Any]:
    return {"id": r.id, "service": r.service, "path": r.path, "method": r.method,
            "links": _links(base, "users/%s/access_rules/%s" % (r.user_id, r.id))}


def app_cred(base: str, a: Any, roles: dict[str, Any],
             rules: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": a.id, "name": a.name, "description": a.description,
            "user_id": a.user_id, "project_id": a.project_id, "system": a.system,
            "expires_at": iso(a.expires_at), "unrestricted": a.unrestricted,
            "roles": [{"id": r, "name": roles[r].name, "domain_id": roles[r].domain_id}
                      for r in a.roles if r in roles],
            "access_rules": [{"id": r, "service": rules[r].service, "path": rules[r].path,
                              "method": rules[r].method}
                             for r in (a.access_rules or []) if rules and r in rules],
            "links": _links(base, "users/%s/application_credentials/%s" % (a.user_id, a.id))}


def collection(base: str, req_path: str, query: str, name: str,
               items: list[dict[str, Any]]) -> dict[str, Any]:
    url = base + req_path + ("?" + query if query else "")
    return {name: items, "links": {"self": url, "previous": None, "next": None}}


def token(t: Any, catalog: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The body of a token (POST/GET /v3/auth/tokens)."""
    p = t.payload
    body: dict[str, Any] = {
        "methods": p.methods, "user": t.user, "audit_ids": p.audit_ids,
        "expires_at": iso_z(p.expires_at), "issued_at": iso_z(p.issued_at)}
    if t.project is not None:
        body["project"] = t.project
        body["is_domain"] = False
    elif t.domain is not None:
        body["domain"] = t.domain
    elif t.system:
        body["system"] = {"all": True}
    if p.scope_type != "unscoped":
        body["roles"] = t.roles
        if catalog is not None:
            body["catalog"] = catalog
    if t.app_cred is not None:
        body["application_credential"] = t.app_cred
    return {"token": body}
