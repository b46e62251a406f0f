"""The network WSGI app (paste ``app_factory``): the plugin wired to the route table."""
from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import policy as common_policy
from common import service as common_service
from common.db import engine
from common.wsgi import request as wsgi_request
from common.wsgi import router as wsgi_router
from network import exception
from network import policies
from network.api import attributes as a
from network.api import base
from network.api import extras
from network.api import resources
from network.api.attributes import Attr
from network.plugin import base as plugin_base
from network.plugin import core

EXMODS = ["network.exception"]

AGENT_ATTRS: dict[str, Attr] = {
    **{name: Attr(False, False) for name in (
        "id", "agent_type", "binary", "topic", "host", "alive", "availability_zone",
        "created_at", "started_at", "heartbeat_timestamp", "configurations",
        "resources_synced")},
    "admin_state_up": Attr(False, True, convert=a.to_boolean),
    "description": Attr(False, True, validate=a.string_or_none(255)),
}


class NetworkApp:
    """The plugin of one network server process, and its router."""

    def __init__(self, conf: cfg.ConfigOpts, plugin: core.Plugin | None = None) -> None:
        self.conf = conf
        self.plugin = plugin or core.Plugin(conf, engine.Database.from_conf(conf, "network"))
        self.enforcer = common_policy.Enforcer(conf, policies.list_rules())
        self.specs = self._specs()
        self.controllers = {name: base.ResourceController(spec)
                            for name, spec in self.specs.items()}
        table: list[tuple[str, dict[str, Any]]] = []
        table.extend(extras.Extras(self).routes())
        for controller in self.controllers.values():
            table.extend(controller.routes())
        self.router = wsgi_router.Router(table, before=self._prepare_context)

    def _network_target(self, ctxt: Any, item: dict[str, Any]) -> dict[str, Any]:
        """The parent network's owner and flags, for the network-owner rules.

        Cached on the request's context: a list of 1,000 ports asks once per network.
        """
        net_id = item.get("network_id")
        if not net_id:
            return {}
        cache = ctxt.__dict__.setdefault("_network_targets", {})
        if net_id not in cache:
            cache[net_id] = self.plugin.networks.owner_info(net_id) or {}
        return dict(cache[net_id])

    def _network_visible(self, ctxt: Any, item: dict[str, Any]) -> None:
        self.plugin.networks.check_visible(ctxt, item["network_id"])

    @staticmethod
    def _port_attr_policies(body: dict[str, Any]) -> list[str]:
        names = []
        if any(isinstance(f, dict) and f.get("ip_address") for f in body.get("fixed_ips")
               or []):
            names.append("fixed_ips:ip_address")
        if str(body.get("device_owner") or "").startswith("network:"):
            names.append("device_owner:network")
        return names

    @staticmethod
    def _router_attr_policies(body: dict[str, Any]) -> list[str]:
        info = body.get("external_gateway_info") or {}
        return ["external_gateway_info:" + key
                for key in ("enable_snat", "external_fixed_ips") if key in info]

    def _specs(self) -> dict[str, base.Spec]:
        p = self.plugin
        r = resources.RESOURCES

        def spec(collection: str, path: str, component: Any, not_found: Any,
                 **kwargs: Any) -> base.Spec:
            return base.Spec(collection=collection, singular=resources.SINGULAR.get(
                collection, collection[:-1]), path=path, attrs=r.get(collection, AGENT_ATTRS),
                get=component.get, get_all=component.get_all, not_found=not_found,
                create=getattr(component, "create", None),
                pushdown=isinstance(component, plugin_base.Readable),
                update=getattr(component, "update", None),
                delete=getattr(component, "delete", None), **kwargs)

        sg = p.security_groups
        return {
            "networks": spec("networks", "networks", p.networks,
                             lambda i: exception.NetworkNotFound(net_id=i)),
            "subnets": spec("subnets", "subnets", p.subnets,
                            lambda i: exception.SubnetNotFound(subnet_id=i),
                            target=self._network_target, precheck=self._network_visible),
            "subnetpools": spec("subnetpools", "subnetpools", p.subnetpools,
                                lambda i: exception.SubnetPoolNotFound(subnetpool_id=i)),
            "ports": spec("ports", "ports", p.ports,
                          lambda i: exception.PortNotFound(port_id=i),
                          target=self._network_target, precheck=self._network_visible,
                          attr_policies=self._port_attr_policies),
            "security_groups": spec("security_groups", "security-groups", sg,
                                    lambda i: exception.SecurityGroupNotFound(id=i)),
            "security_group_rules": base.Spec(
                collection="security_group_rules", singular="security_group_rule",
                path="security-group-rules", attrs=r["security_group_rules"],
                get=sg.get_rule, get_all=sg.list_rules, create=sg.create_rule,
                delete=sg.delete_rule,
                not_found=lambda i: exception.SecurityGroupRuleNotFound(id=i)),
            "routers": spec("routers", "routers", p.routers,
                            lambda i: exception.RouterNotFound(router_id=i),
                            attr_policies=self._router_attr_policies),
            "floatingips": spec("floatingips", "floatingips", p.floatingips,
                                lambda i: exception.FloatingIPNotFound(floatingip_id=i)),
            "agents": base.Spec(
                collection="agents", singular="agent", path="agents", attrs=AGENT_ATTRS,
                get=p.agents.get, get_all=p.agents.get_all, update=p.agents.update,
                delete=p.agents.delete, not_found=lambda i: exception.AgentNotFound(id=i)),
        }

    def _prepare_context(self, req: wsgi_request.Request) -> None:
        self.enforcer.bind(req.context)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.router(environ, start_response)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> NetworkApp:
    conf = common_service.conf_from_global(global_conf)
    plugin = _PLUGINS.get(str(id(conf)))
    return NetworkApp(conf, plugin)


# The server process builds its plugin once and shares it with the RPC endpoint.
_PLUGINS: dict[str, core.Plugin] = {}


def share_plugin(conf: cfg.ConfigOpts, plugin: core.Plugin) -> None:
    _PLUGINS[str(id(conf))] = plugin
