"""``/v2.1/servers``: list (with filters and paging), detail, show, create,
update and delete. The helpers at the top are shared by the servers'
sub-resource controllers (actions, metadata, tags, ips, instance actions)."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import pagination
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import server_bdm
from compute import server_create
from compute import server_query
from compute import servers as servers_service
from compute.api import microversion
from compute.api import views
from compute.api import views_servers
from compute.api.schemas import servers as schema

Request = wsgi_request.Request
_TRUE = ("true", "1", "on", "yes", "y", "t")


def target(instance: dict[str, Any]) -> dict[str, Any]:
    """The policy target of a server: its project and user."""
    return {"project_id": instance["project_id"], "user_id": instance["user_id"]}


def own_target(req: Request) -> dict[str, Any]:
    return {"project_id": req.context.project_id, "user_id": req.context.user_id}


def boolean(value: Any) -> bool:
    """Nova's boolean parameters: true/false or their string spellings."""
    return value is True or (isinstance(value, str) and value.lower() in _TRUE)


def links(app: Any, req: Request) -> views.Links:
    return views.Links(req, app.conf.api.public_endpoint)


def server_view(app: Any, req: Request) -> views_servers.ServerView:
    """The renderer for this request (its microversion and what the caller may see)."""
    ctxt = req.context
    version = microversion.of(req)
    admin = ctxt.can("os_compute_api:os-extended-server-attributes", own_target(req),
                     fatal=False)
    host_status = version >= (2, 16) and ctxt.can("os_compute_api:servers:show:host_status",
                                                  own_target(req), fatal=False)
    extra_specs = version >= (2, 47) and ctxt.can(
        "os_compute_api:os-flavor-extra-specs:index", own_target(req), fatal=False)
    return views_servers.ServerView(links(app, req), version, admin=admin,
                                    host_status=host_status, extra_specs=extra_specs)


def update_values(body: dict[str, Any]) -> dict[str, Any]:
    """Instance columns from an update or rebuild body."""
    values: dict[str, Any] = {}
    if "name" in body:
        values["display_name"] = body["name"]
    for key, column in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
        if key in body:
            values[column] = server_create.canonical_ip(body[key])
    if "description" in body:
        values["display_description"] = body["description"]
    if "OS-DCF:diskConfig" in body:
        values["auto_disk_config"] = body["OS-DCF:diskConfig"] == "AUTO"
    return values


class ServersController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers
        self.builder: server_create.ServerBuilder = app.server_builder

    # -- lists
    def _list(self, req: Request, detail: bool) -> Any:
        ctxt = req.context
        kind = "detail" if detail else "index"
        ctxt.can("os_compute_api:servers:" + kind, own_target(req))
        params = {key: req.GET.getall(key) for key in set(req.GET.keys())}
        every = server_query.all_tenants(params, ctxt.project_id)
        if every:
            ctxt.can("os_compute_api:servers:%s:get_all_tenants" % kind, own_target(req))
        admin = ctxt.can("os_compute_api:servers:allow_all_filters", own_target(req),
                         fatal=False)
        limit, marker = pagination.limit_and_marker(req.GET,
                                                    self.app.conf.compute_api.max_limit)
        query = server_query.parse(params, project_id=ctxt.project_id, every_project=every,
                                   admin=admin, version=microversion.of(req), limit=limit,
                                   marker=marker)
        items = server_query.run(self.servers.store, query)
        view = server_view(self.app, req)
        if detail:
            extras = self.servers.view_extras(items, host_status=view.host_status)
            servers = [view.detail(i, extras[i["uuid"]]) for i in items]
        else:
            servers = [view.basic(i) for i in items]
        body: dict[str, Any] = {"servers": servers}
        if items and len(items) == limit:
            path = view.links.versioned + ("/servers/detail" if detail else "/servers")
            body["servers_links"] = [{"rel": "next", "href": pagination.next_link(
                path, req.GET, items[-1]["uuid"])}]
        return wsgi_request.json_response(body)

    def index(self, req: Request) -> Any:
        return self._list(req, detail=False)

    def detail(self, req: Request) -> Any:
        return self._list(req, detail=True)

    def show(self, req: Request, server_id: str) -> Any:
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:servers:show", target(instance))
        view = server_view(self.app, req)
        extras = self.servers.view_extras([instance], host_status=view.host_status)
        return wsgi_request.json_response(
            {"server": view.detail(instance, extras[instance["uuid"]])})

    # -- create
    @staticmethod
    def _request(body: dict[str, Any]) -> server_create.CreateRequest:
        server = body["server"]
        if "block_device_mapping" in server and "block_device_mapping_v2" in server:
            raise common_exception.Invalid(
                "Using different block_device_mapping syntaxes is not allowed")
        devices = list(server.get("block_device_mapping_v2") or [])
        devices += [server_bdm.from_legacy(item)
                    for item in server.get("block_device_mapping") or []]
        groups = [g["name"] for g in server.get("security_groups") or [{"name": "default"}]
                  if g.get("name")]
        min_count = int(server.get("min_count", 1))
        disk = server.get("OS-DCF:diskConfig")
        hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
        return server_create.CreateRequest(
            name=server["name"], flavor_ref=str(server["flavorRef"]),
            image_ref=server.get("imageRef"), networks=server.get("networks"),
            key_name=server.get("key_name"), user_data=server.get("user_data"),
            metadata=dict(server.get("metadata") or {}),
            availability_zone=server.get("availability_zone"),
            security_groups=list(dict.fromkeys(groups)),
            access_ip_v4=server.get("accessIPv4"), access_ip_v6=server.get("accessIPv6"),
            admin_pass=server.get("adminPass"), min_count=min_count,
            max_count=int(server.get("max_count", min_count)),
            config_drive=boolean(server.get("config_drive", False)),
            auto_disk_config=None if disk is None else disk == "AUTO",
            scheduler_hints=dict(hints), description=server.get("description"),
            block_devices=devices, personality=list(server.get("personality") or []))

    def create(self, req: Request) -> Any:
        ctxt = req.context
        ctxt.can("os_compute_api:servers:create", own_target(req))
        version = microversion.of(req)
        body = validation.validate(req.parsed_json(), schema.create(version))
        result = self.builder.create(ctxt, self._request(body))
        if boolean(body["server"].get("return_reservation_id", False)):
            return wsgi_request.json_response({"reservation_id": result.reservation_id},
                                              status=202)
        first = result.instances[0]
        view = server_view(self.app, req)
        location = view.links.item("servers", first["uuid"])[0]["href"]
        return wsgi_request.json_response({"server": view.created(first, result.admin_pass)},
                                          status=202, headers={"Location": location})

    # -- update and delete
    def update(self, req: Request, server_id: str) -> Any:
        ctxt = req.context
        version = microversion.of(req)
        body = validation.validate(req.parsed_json(),
                                   schema.UPDATE_V219 if version >= (2, 19) else schema.UPDATE)
        instance = self.servers.get(ctxt, server_id)
        ctxt.can("os_compute_api:servers:update", target(instance))
        updated = self.servers.update(ctxt, instance, update_values(body["server"]))
        view = server_view(self.app, req)
        extras = self.servers.view_extras([updated])
        return wsgi_request.json_response(
            {"server": view.updated(updated, extras[updated["uuid"]])})

    def delete(self, req: Request, server_id: str) -> Any:
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:servers:delete", target(instance))
        self.servers.delete(req.context, instance)
        return wsgi_request.empty_response(204)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/servers", {"GET": self.index, "POST": self.create}),
                ("/v2.1/servers/detail", {"GET": self.detail}),
                ("/v2.1/servers/{server_id}", {"GET": self.show, "PUT": self.update,
                                               "DELETE": self.delete})]
