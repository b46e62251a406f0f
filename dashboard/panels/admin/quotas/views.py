"""Default quotas: what a new project gets from each service, and the form that
changes them where the service's API allows it (quota class ``default``)."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud, errors
from dashboard.panels.admin.quotas import editing, fields
from dashboard.ui import tables

DEFAULT_CLASS = "default"
# An API that answers these to os-quota-class-sets has no changeable defaults.
UNSUPPORTED = {404, 405, 501}
TABLE_NAMES = {"compute": "compute_quotas", "block-storage": "volume_quotas",
               "network": "network_quotas"}


def _class_api(conn: Any, service: fields.Service) -> Any:
    return conn.compute if service is fields.COMPUTE else conn.block_storage


def changeable(conn: Any, service: fields.Service) -> tuple[bool, str]:
    """Whether ``service`` lets its defaults be changed, and if not why."""
    if service is fields.NETWORK:
        return False, ("The network service has no API to change its defaults: they are "
                       "set in its configuration ([quotas] options).")
    try:
        _class_api(conn, service).get_quota_class_set(DEFAULT_CLASS)
    except errors.API_ERRORS as err:
        if errors.status(err) in UNSUPPORTED:
            return False, ("The %s service of this cloud does not offer its defaults through "
                           "its API (os-quota-class-sets answers %s): they are set in its "
                           "configuration." % (service.title.lower(), errors.status(err)))
        return False, "The %s defaults cannot be changed now: %s" % (
            service.title.lower(), errors.message(err))
    return True, ""


def _table(service: fields.Service, defaults: dict[str, Any]) -> dict[str, Any]:
    rows = [{"id": q.name, "name": q.label, "limit": fields.shown(defaults.get(q.name))}
            for q in service.quotas if defaults.get(q.name) is not None]
    return tables.Table(name=TABLE_NAMES[service.key], title="%s Quotas" % service.title,
                        columns=[tables.Column("name", "Quota"),
                                 tables.Column("limit", "Default limit")],
                        rows=rows, empty="This service shows no defaults.").context()


def index(request: Any) -> HttpResponse:
    conn = cloud.connection(request)
    project_id = request.stratus_user.project_id
    sections, editable = [], False
    for service in fields.in_catalog(request.stratus_user):
        section: dict[str, Any] = {"key": service.key, "title": service.title}
        try:
            section["table"] = _table(service, fields.read_defaults(conn, service, project_id))
        except errors.API_ERRORS as err:
            section["problem"] = errors.message(err)
        ok, section["note"] = changeable(conn, service)
        editable = editable or ok
        sections.append(section)
    return render(request, "admin/quotas/index.html",
                  {"title": "Default Quotas", "sections": sections, "editable": editable})


def update(request: Any) -> HttpResponse:
    conn = cloud.connection(request)
    project_id = request.stratus_user.project_id
    services, notes = [], {}
    for service in fields.in_catalog(request.stratus_user):
        ok, note = changeable(conn, service)
        if ok:
            services.append(service)
        else:
            notes[service.key] = note

    def read(service: fields.Service) -> dict[str, Any]:
        return fields.read_defaults(conn, service, project_id)

    def write(service: fields.Service, changes: dict[str, int]) -> None:
        _class_api(conn, service).update_quota_class_set(DEFAULT_CLASS, **changes)

    return editing.quota_page(
        request, services, read, write, "Update Default Quotas", reverse("admin-quotas:index"),
        intro="The limits a project gets when it has none of its own; -1 means unlimited.",
        notes=notes, submit="Update Defaults")
