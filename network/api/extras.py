"""Non-CRUD endpoints: version discovery, extensions, quotas, router interfaces,
agent scheduling views and tags."""
from __future__ import annotations

from typing import Any

import webob

from common import exception as common_exc
from common import rpc
from common.wsgi import request as wsgi_request
from common.wsgi import versions
from network import exception
from network.api import attributes
from network.api import base
from network.api import extensions

Request = wsgi_request.Request
json_response = wsgi_request.json_response
_TAGGABLE = {"networks": "network", "subnets": "subnet", "ports": "port",
             "routers": "router", "subnetpools": "subnetpool",
             "security-groups": "security_group", "floatingips": "floatingip"}


class Extras:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.plugin = app.plugin

    # -- discovery -------------------------------------------------------------------

    def _base(self, req: Request) -> str:
        return versions.base_url(req, self.app.conf.api.public_endpoint)

    def versions(self, req: Request) -> webob.Response:
        return json_response({"versions": [{
            "id": "v2.0", "status": "CURRENT",
            "links": [{"rel": "self", "href": self._base(req) + "/v2.0/"}]}]})

    def v2(self, req: Request) -> webob.Response:
        base_url = self._base(req) + "/v2.0/"
        resources = [{"name": spec.singular, "collection": spec.collection,
                      "links": [{"rel": "self", "href": base_url + spec.path}]}
                     for spec in self.app.specs.values()]
        return json_response({"resources": resources})

    def extension_list(self, req: Request) -> webob.Response:
        return json_response({"extensions": extensions.all_extensions()})

    def extension_show(self, req: Request, alias: str) -> webob.Response:
        found = extensions.find(alias)
        if found is None:
            raise exception.ExtensionNotFound(alias=alias)
        return json_response({"extension": found})

    # -- quotas ----------------------------------------------------------------------

    def quota_list(self, req: Request) -> webob.Response:
        req.context.can("get_quotas", {})
        return json_response({"quotas": self.plugin.quotas.get_all()})

    def quota_show(self, req: Request, project_id: str) -> webob.Response:
        req.context.can("get_quota", {"project_id": project_id})
        return json_response({"quota": self.plugin.quotas.get(project_id)})

    def quota_default(self, req: Request, project_id: str) -> webob.Response:
        req.context.can("get_quota", {"project_id": project_id})
        return json_response({"quota": self.plugin.quotas.defaults()})

    def quota_details(self, req: Request, project_id: str) -> webob.Response:
        req.context.can("get_quota", {"project_id": project_id})
        return json_response({"quota": self.plugin.quotas.details(project_id)})

    def quota_update(self, req: Request, project_id: str) -> webob.Response:
        body = req.parsed_json()
        if not isinstance(body, dict) or not isinstance(body.get("quota"), dict) or \
                len(body) != 1:
            raise exception.HTTPBadRequest(msg="Unable to find 'quota' in request body")
        req.context.can("update_quota", {"project_id": project_id})
        quota = self.plugin.quotas.update(project_id, body["quota"])
        return json_response({"quota": quota})

    def quota_delete(self, req: Request, project_id: str) -> webob.Response:
        req.context.can("delete_quota", {"project_id": project_id})
        self.plugin.quotas.delete(project_id)
        return wsgi_request.empty_response(204)

    # -- routers ---------------------------------------------------------------------

    def _interface(self, req: Request, router_id: str, action: str) -> webob.Response:
        ctxt = req.context
        body = req.parsed_json()
        if not isinstance(body, dict):
            raise exception.HTTPBadRequest(msg="Body must be a dictionary")
        for key in ("subnet_id", "port_id"):
            if key in body:
                attributes.check(key, body[key], attributes.uuid)
        unknown = set(body) - {"subnet_id", "port_id"}
        if unknown:
            raise exception.HTTPBadRequest(msg="Unrecognized attribute(s) '%s'"
                                           % ", ".join(sorted(unknown)))
        router = self.app.controllers["routers"]._load(ctxt, router_id)
        ctxt.can(action, base.to_target(router))
        if action == "add_router_interface":
            info = self.plugin.routers.add_interface(ctxt, router_id, body)
        else:
            info = self.plugin.routers.remove_interface(ctxt, router_id, body)
        if rpc.initialized():
            rpc.notify(ctxt, "router.interface.%s" % ("create" if action.startswith("add")
                                                      else "delete"),
                       {"router_interface": info})
        return json_response(info)

    def add_interface(self, req: Request, router_id: str) -> webob.Response:
        return self._interface(req, router_id, "add_router_interface")

    def remove_interface(self, req: Request, router_id: str) -> webob.Response:
        return self._interface(req, router_id, "remove_router_interface")

    # -- agent scheduling ------------------------------------------------------------

    def dhcp_networks(self, req: Request, agent_id: str) -> webob.Response:
        ctxt = req.context
        ctxt.can("get_dhcp-networks", {})
        ids = self.plugin.agents.hosted_networks(ctxt, agent_id)
        networks = self.app.controllers["networks"]
        return json_response({"networks": [networks.view(ctxt, self.plugin.networks.get(
            ctxt, i)) for i in ids]})

    def l3_routers(self, req: Request, agent_id: str) -> webob.Response:
        ctxt = req.context
        ctxt.can("get_l3-routers", {})
        ids = self.plugin.agents.hosted_routers(ctxt, agent_id)
        routers = self.app.controllers["routers"]
        return json_response({"routers": [routers.view(ctxt, self.plugin.routers.get(
            ctxt, i)) for i in ids]})

    def _schedule(self, req: Request, agent_id: str, kind: str, key: str, policy: str,
                  check: Any, notify: Any) -> webob.Response:
        ctxt = req.context
        ctxt.can(policy, {})
        body = req.parsed_json()
        resource_id = body.get(key) if isinstance(body, dict) else None
        if not isinstance(resource_id, str) or not resource_id:
            raise exception.InvalidInput(error_message="'%s' is required" % key)
        check(ctxt, resource_id)
        self.plugin.agents.schedule(ctxt, kind, agent_id, resource_id)
        notify(ctxt, resource_id)
        return webob.Response(status=201, content_type="application/json", body=b"null")

    def _unschedule(self, req: Request, agent_id: str, resource_id: str, kind: str,
                    policy: str, notify: Any) -> webob.Response:
        ctxt = req.context
        ctxt.can(policy, {})
        self.plugin.agents.unschedule(ctxt, kind, agent_id, resource_id)
        notify(ctxt, resource_id)
        return webob.Response(status=204)

    def add_dhcp_network(self, req: Request, agent_id: str) -> webob.Response:
        return self._schedule(req, agent_id, "dhcp", "network_id", "create_dhcp-network",
                              self.plugin.networks.get,
                              self.plugin.dhcp_notifier.network_changed)

    def remove_dhcp_network(self, req: Request, agent_id: str,
                            network_id: str) -> webob.Response:
        return self._unschedule(req, agent_id, network_id, "dhcp", "delete_dhcp-network",
                                self.plugin.dhcp_notifier.network_changed)

    def add_l3_router(self, req: Request, agent_id: str) -> webob.Response:
        return self._schedule(req, agent_id, "l3", "router_id", "create_l3-router",
                              self.plugin.routers.get, self._routers_changed)

    def remove_l3_router(self, req: Request, agent_id: str,
                         router_id: str) -> webob.Response:
        return self._unschedule(req, agent_id, router_id, "l3", "delete_l3-router",
                                self._routers_changed)

    def _routers_changed(self, ctxt: Any, router_id: str) -> None:
        self.plugin.l3_notifier.routers_updated(ctxt, [router_id])

    def dhcp_agents(self, req: Request, network_id: str) -> webob.Response:
        ctxt = req.context
        ctxt.can("get_dhcp-agents", {})
        self.plugin.networks.get(ctxt, network_id)
        return json_response({"agents": self.plugin.agents.agents_of_network(
            ctxt, network_id)})

    def l3_agents(self, req: Request, router_id: str) -> webob.Response:
        ctxt = req.context
        ctxt.can("get_l3-agents", {})
        self.plugin.routers.get(ctxt, router_id)
        return json_response({"agents": self.plugin.agents.agents_of_router(
            ctxt, router_id)})

    # -- tags ------------------------------------------------------------------------

    def _tag_target(self, req: Request, resources: str, resource_id: str) -> None:
        collection = resources.replace("-", "_")
        controller = self.app.controllers.get(collection)
        if controller is None or resources not in _TAGGABLE:
            raise common_exc.NotFound("The resource could not be found.")
        item = controller._load(req.context, resource_id)
        req.context.can("update_tags", base.to_target(item))

    @staticmethod
    def _check_tag(tag: Any) -> str:
        if not isinstance(tag, str) or not tag or len(tag) > 60 or "," in tag or "/" in tag:
            raise exception.InvalidInput(error_message="Invalid tag %r" % (tag,))
        return tag

    def tags_show(self, req: Request, resources: str, resource_id: str) -> webob.Response:
        collection = resources.replace("-", "_")
        controller = self.app.controllers.get(collection)
        if controller is None or resources not in _TAGGABLE:
            raise common_exc.NotFound("The resource could not be found.")
        item = controller._load(req.context, resource_id)
        return json_response({"tags": item.get("tags", [])})

    def tags_replace(self, req: Request, resources: str, resource_id: str) -> webob.Response:
        body = req.parsed_json()
        if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
            raise exception.HTTPBadRequest(msg="Invalid tags body")
        tags = [self._check_tag(t) for t in body["tags"]]
        self._tag_target(req, resources, resource_id)
        return json_response({"tags": self.plugin.tags.replace(resource_id, tags)})

    def tags_clear(self, req: Request, resources: str, resource_id: str) -> webob.Response:
        self._tag_target(req, resources, resource_id)
        self.plugin.tags.clear(resource_id)
        return wsgi_request.empty_response(204)

    def tag_check(self, req: Request, resources: str, resource_id: str,
                  tag: str) -> webob.Response:
        collection = resources.replace("-", "_")
        controller = self.app.controllers.get(collection)
        if controller is None or resources not in _TAGGABLE:
            raise common_exc.NotFound("The resource could not be found.")
        item = controller._load(req.context, resource_id)
        if tag not in item.get("tags", []):
            raise common_exc.NotFound("Tag %s could not be found." % tag)
        return wsgi_request.empty_response(204)

    def tag_add(self, req: Request, resources: str, resource_id: str,
                tag: str) -> webob.Response:
        self._check_tag(tag)
        self._tag_target(req, resources, resource_id)
        self.plugin.tags.add(resource_id, tag)
        return wsgi_request.empty_response(201)

    def tag_remove(self, req: Request, resources: str, resource_id: str,
                   tag: str) -> webob.Response:
        self._tag_target(req, resources, resource_id)
        if not self.plugin.tags.remove(resource_id, tag):
            raise common_exc.NotFound("Tag %s could not be found." % tag)
        return wsgi_request.empty_response(204)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        tags = "/v2.0/{resources}/{resource_id}/tags"
        return [
            ("/", {"GET": self.versions}),
            ("/v2.0", {"GET": self.v2}),
            ("/v2.0/extensions", {"GET": self.extension_list}),
            ("/v2.0/extensions/{alias}", {"GET": self.extension_show}),
            ("/v2.0/quotas", {"GET": self.quota_list}),
            ("/v2.0/quotas/{project_id}/default", {"GET": self.quota_default}),
            ("/v2.0/quotas/{project_id}/details", {"GET": self.quota_details}),
            ("/v2.0/quotas/{project_id}", {"GET": self.quota_show, "PUT": self.quota_update,
                                           "DELETE": self.quota_delete}),
            ("/v2.0/routers/{router_id}/add_router_interface", {"PUT": self.add_interface}),
            ("/v2.0/routers/{router_id}/remove_router_interface",
             {"PUT": self.remove_interface}),
            ("/v2.0/agents/{agent_id}/dhcp-networks", {"GET": self.dhcp_networks,
                                                       "POST": self.add_dhcp_network}),
            ("/v2.0/agents/{agent_id}/dhcp-networks/{network_id}",
             {"DELETE": self.remove_dhcp_network}),
            ("/v2.0/agents/{agent_id}/l3-routers", {"GET": self.l3_routers,
                                                    "POST": self.add_l3_router}),
            ("/v2.0/agents/{agent_id}/l3-routers/{router_id}",
             {"DELETE": self.remove_l3_router}),
            ("/v2.0/networks/{network_id}/dhcp-agents", {"GET": self.dhcp_agents}),
            ("/v2.0/routers/{router_id}/l3-agents", {"GET": self.l3_agents}),
            (tags, {"GET": self.tags_show, "PUT": self.tags_replace,
                    "DELETE": self.tags_clear}),
            (tags + "/{tag}", {"GET": self.tag_check, "PUT": self.tag_add,
                               "DELETE": self.tag_remove}),
        ]
