"""The deprecated security group proxy APIs, served before 2.36 (404 from then on,
as Nova): ``/v2.1/os-security-groups[/{id}]`` (list, create, show, update: 200;
delete: 202) and ``/v2.1/os-security-group-rules[/{id}]`` (create: 200; delete:
202). The work is compute/security_groups_proxy's."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import security_groups_proxy
from compute.api import microversion
from compute.api.schemas import security_groups_proxy as schema

Request = wsgi_request.Request
LAST = (2, 35)


def _authorize(req: Request, rule: str) -> Any:
    """The caller's context, once the version and ``os-security-groups:<rule>``
    allow the call (its target: the caller's project)."""
    if microversion.of(req) > LAST:
        raise common_exception.NotFound("The resource could not be found.")
    req.context.can("os_compute_api:os-security-groups:" + rule,
                    {"project_id": req.context.project_id})
    return req.context


def _group_fields(req: Request) -> tuple[str, str]:
    group = validation.validate(req.json_body_or_empty(), schema.GROUP)["security_group"]
    return group["name"], group["description"]


class SecurityGroupsProxyController:
    def __init__(self, app: Any) -> None:
        self.proxy = security_groups_proxy.SecurityGroupsProxy(app.conf)

    def index(self, req: Request) -> Any:
        ctxt = _authorize(req, "get")
        groups = self.proxy.list(ctxt, "all_tenants" in req.GET)
        return wsgi_request.json_response({"security_groups": groups})

    def create(self, req: Request) -> Any:
        ctxt = _authorize(req, "create")
        name, description = _group_fields(req)
        return wsgi_request.json_response(
            {"security_group": self.proxy.create(ctxt, name, description)})

    def not_found(self, req: Request, **_ids: str) -> Any:
        """What Nova has no route for (a DELETE without an id, which Tempest
        expects to be a 404; reading rules): 404 rather than 405."""
        raise common_exception.NotFound("The resource could not be found.")

    def show(self, req: Request, group_id: str) -> Any:
        ctxt = _authorize(req, "show")
        return wsgi_request.json_response({"security_group": self.proxy.show(ctxt, group_id)})

    def update(self, req: Request, group_id: str) -> Any:
        ctxt = _authorize(req, "update")
        name, description = _group_fields(req)
        return wsgi_request.json_response(
            {"security_group": self.proxy.update(ctxt, group_id, name, description)})

    def delete(self, req: Request, group_id: str) -> Any:
        ctxt = _authorize(req, "delete")
        self.proxy.delete(ctxt, group_id)
        return wsgi_request.empty_response(202)

    def create_rule(self, req: Request) -> Any:
        ctxt = _authorize(req, "rule:create")
        fields = validation.validate(req.json_body_or_empty(),
                                     schema.RULE)["security_group_rule"]
        return wsgi_request.json_response(
            {"security_group_rule": self.proxy.create_rule(ctxt, fields)})

    def delete_rule(self, req: Request, rule_id: str) -> Any:
        ctxt = _authorize(req, "rule:delete")
        self.proxy.delete_rule(ctxt, rule_id)
        return wsgi_request.empty_response(202)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            ("/v2.1/os-security-groups", {"GET": self.index, "POST": self.create,
                                          "DELETE": self.not_found}),
            ("/v2.1/os-security-groups/{group_id}", {
                "GET": self.show, "PUT": self.update, "DELETE": self.delete}),
            ("/v2.1/os-security-group-rules", {"POST": self.create_rule,
                                               "GET": self.not_found}),
            ("/v2.1/os-security-group-rules/{rule_id}", {"DELETE": self.delete_rule,
                                                         "GET": self.not_found}),
        ]
