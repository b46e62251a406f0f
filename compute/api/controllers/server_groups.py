"""``/v2.1/os-server-groups``: list (the caller's project; every project's for
admins with ``all_projects``), create, show, delete.

Microversions: 2.13 (``project_id`` and ``user_id``), 2.15 (the soft policies),
2.64 (``policy`` and ``rules`` instead of ``policies`` and ``metadata``).
"""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import server_groups as groups_api
from compute.api import microversion
from compute.api.schemas import server_groups as schema

Request = wsgi_request.Request


def _view(req: Request, group: dict[str, Any]) -> dict[str, Any]:
    version = microversion.of(req)
    body: dict[str, Any] = {"id": group["id"], "name": group["name"],
                            "members": list(group["members"])}
    if version >= (2, 64):
        body.update(policy=group["policy"], rules=dict(group["rules"]))
    else:
        body.update(policies=[group["policy"]], metadata={})
    if version >= (2, 13):
        body.update(project_id=group["project_id"], user_id=group["user_id"])
    return body


def _non_negative(req: Request, name: str) -> int | None:
    raw = req.GET.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 0x7FFFFFFF:
        raise common_exception.ValidationError(
            field=name, detail="must be an integer from 0 to %d" % 0x7FFFFFFF)
    return int(raw)


class ServerGroupsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.groups = groups_api.ServerGroupAPI(app.conf, app.db)

    def index(self, req: Request) -> Any:
        ctxt = req.context
        ctxt.can("os_compute_api:os-server-groups:index", {"project_id": ctxt.project_id})
        project_id: str | None = ctxt.project_id
        if "all_projects" in req.GET and req.param_bool("all_projects", True):
            ctxt.can("os_compute_api:os-server-groups:index:all_projects",
                     {"project_id": ctxt.project_id})
            project_id = None
        limit = _non_negative(req, "limit")
        max_limit = int(self.app.conf.compute_api.max_limit)
        groups = self.groups.get_all(project_id, limit=min(limit or max_limit, max_limit),
                                     offset=_non_negative(req, "offset") or 0)
        return wsgi_request.json_response({"server_groups": [_view(req, g) for g in groups]})

    def show(self, req: Request, group_id: str) -> Any:
        group = self.groups.get(group_id)
        req.context.can("os_compute_api:os-server-groups:show",
                        {"project_id": group["project_id"]})
        return wsgi_request.json_response({"server_group": _view(req, group)})

    def create(self, req: Request) -> Any:
        ctxt = req.context
        ctxt.can("os_compute_api:os-server-groups:create",
                 {"project_id": ctxt.project_id, "user_id": ctxt.user_id})
        version = microversion.of(req)
        if version >= (2, 64):
            body = validation.validate(req.parsed_json(), schema.CREATE_264)["server_group"]
            policy, rules = body["policy"], dict(body.get("rules") or {})
            if rules and policy != groups_api.ANTI_AFFINITY:
                raise common_exception.Invalid("Only anti-affinity policy supports rules.")
            if "max_server_per_host" in rules:
                value = int(rules["max_server_per_host"])
                if not 1 <= value <= 0x7FFFFFFF:
                    raise common_exception.ValidationError(
                        field="server_group.rules.max_server_per_host",
                        detail="must be an integer from 1 to %d" % 0x7FFFFFFF)
                rules["max_server_per_host"] = value
        else:
            body = validation.validate(
                req.parsed_json(),
                schema.CREATE_215 if version >= (2, 15) else schema.CREATE)["server_group"]
            policy, rules = body["policies"][0], {}
        group = self.groups.create(ctxt.project_id, ctxt.user_id, body["name"], policy, rules)
        return wsgi_request.json_response({"server_group": _view(req, group)})

    def delete(self, req: Request, group_id: str) -> Any:
        group = self.groups.get(group_id)
        req.context.can("os_compute_api:os-server-groups:delete",
                        {"project_id": group["project_id"]})
        self.groups.delete(group_id)
        return wsgi_request.empty_response(204)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-server-groups", {"GET": self.index, "POST": self.create}),
                ("/v2.1/os-server-groups/{group_id}", {"GET": self.show,
                                                        "DELETE": self.delete})]
