"""``stratus network ...``: the common flows of the network service.

    stratus network list | show NET | create NAME [--external] [--shared] | delete NET
    stratus network subnet-create NET --cidr CIDR [--no-dhcp] [--gateway IP|none]
    stratus network port-list [--network NET] | port-create NET [--fixed-ip IP]
    stratus network router-create NAME [--external-gateway NET]
    stratus network router-add-subnet ROUTER SUBNET
    stratus network floating-ip-create EXTNET [--port PORT]
    stratus network quickstart NAME --cidr CIDR [--external-gateway NET]
    stratus network agent-list
"""
from __future__ import annotations

import argparse
from typing import Any


from common.cli import client

NET_COLUMNS = ("id", "name", "subnets", "status", "shared", "router:external")
PORT_COLUMNS = ("id", "name", "mac_address", "fixed_ips", "status", "device_owner")
AGENT_COLUMNS = ("id", "agent_type", "host", "alive", "admin_state_up", "binary")
_PATHS = {"networks": "networks", "subnets": "subnets", "ports": "ports",
          "routers": "routers", "floatingips": "floatingips",
          "security_groups": "security-groups", "agents": "agents"}


class _Commands(client.ServiceClient):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args.auth_url, "network", prefix="/v2.0/")
        self.args = args

    def find(self, collection: str, name_or_id: str) -> dict[str, Any]:
        singular = "security_group" if collection == "security_groups" else collection[:-1]
        path = _PATHS[collection]
        if client.is_uuid(name_or_id):
            resp = self.request("GET", "%s/%s" % (path, name_or_id), ok=(200, 404))
            if resp.status_code == 200:
                return dict(resp.json()[singular])
        found = self.request("GET", path, params={"name": name_or_id}).json()[collection]
        if not found:
            raise client.CLIError("no %s named or with ID %r (`stratus network %s` lists them)"
                                  % (singular, name_or_id,
                                     "list" if collection == "networks" else "port-list"))
        if len(found) > 1:
            raise client.CLIError("%d %ss are named %r: use an ID (%s)" % (
                len(found), singular, name_or_id, ", ".join(f["id"] for f in found)))
        return dict(found[0])

    def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        singular = collection[:-1]
        resp = self.request("POST", _PATHS[collection], ok=(201,), json={singular: body})
        return dict(resp.json()[singular])


def _fmt(args: argparse.Namespace) -> str:
    return str(getattr(args, "format", "table"))


def _flat(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        row = dict(row)
        if isinstance(row.get("subnets"), list):
            row["subnets"] = ",".join(row["subnets"])
        if isinstance(row.get("fixed_ips"), list):
            row["fixed_ips"] = ",".join(f["ip_address"] for f in row["fixed_ips"])
        out.append(row)
    return out


def _list(args: argparse.Namespace) -> None:
    nets = _Commands(args).request("GET", "networks").json()["networks"]
    client.print_rows(_fmt(args), NET_COLUMNS, _flat(nets))


def _show(args: argparse.Namespace) -> None:
    client.print_object(_fmt(args), _Commands(args).find("networks", args.network))


def _create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"name": args.name}
    if args.external:
        body["router:external"] = True
    if args.shared:
        body["shared"] = True
    client.print_object(_fmt(args), _Commands(args).create("networks", body))


def _delete(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    net = cmd.find("networks", args.network)
    cmd.request("DELETE", "networks/%s" % net["id"], ok=(204,))
    print("deleted network %s (%s)" % (net.get("name"), net["id"]))


def _subnet_body(net_id: str, cidr: str, args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"network_id": net_id, "cidr": cidr,
                            "ip_version": 6 if ":" in cidr else 4,
                            "enable_dhcp": not getattr(args, "no_dhcp", False)}
    gateway = getattr(args, "gateway", None)
    if gateway is not None:
        body["gateway_ip"] = None if gateway == "none" else gateway
    if getattr(args, "subnet_name", None):
        body["name"] = args.subnet_name
    return body


def _subnet_create(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    net = cmd.find("networks", args.network)
    client.print_object(_fmt(args), cmd.create("subnets", _subnet_body(net["id"], args.cidr,
                                                                        args)))


def _port_list(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    params = {}
    if args.network:
        params["network_id"] = cmd.find("networks", args.network)["id"]
    ports = cmd.request("GET", "ports", params=params).json()["ports"]
    client.print_rows(_fmt(args), PORT_COLUMNS, _flat(ports))


def _port_create(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    body: dict[str, Any] = {"network_id": cmd.find("networks", args.network)["id"]}
    if args.name:
        body["name"] = args.name
    if args.fixed_ip:
        body["fixed_ips"] = [{"ip_address": ip} for ip in args.fixed_ip]
    client.print_object(_fmt(args), cmd.create("ports", body))


def _gateway(cmd: _Commands, name_or_id: str | None) -> dict[str, Any] | None:
    if not name_or_id:
        return None
    return {"network_id": cmd.find("networks", name_or_id)["id"]}


def _router_create(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    body: dict[str, Any] = {"name": args.name}
    gateway = _gateway(cmd, args.external_gateway)
    if gateway:
        body["external_gateway_info"] = gateway
    client.print_object(_fmt(args), cmd.create("routers", body))


def _router_add_subnet(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    router = cmd.find("routers", args.router)
    subnet = cmd.find("subnets", args.subnet)
    info = cmd.request("PUT", "routers/%s/add_router_interface" % router["id"],
                       json={"subnet_id": subnet["id"]}).json()
    client.print_object(_fmt(args), info)


def _fip_create(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    body: dict[str, Any] = {"floating_network_id": cmd.find("networks", args.network)["id"]}
    if args.port:
        body["port_id"] = cmd.find("ports", args.port)["id"]
    client.print_object(_fmt(args), cmd.create("floatingips", body))


def _quickstart(args: argparse.Namespace) -> None:
    """A network, its subnet and (with --external-gateway) a router to the outside."""
    cmd = _Commands(args)
    net = cmd.create("networks", {"name": args.name})
    subnet = cmd.create("subnets", _subnet_body(net["id"], args.cidr, args))
    result = {"network": net["id"], "subnet": subnet["id"], "cidr": subnet["cidr"]}
    gateway = _gateway(cmd, args.external_gateway)
    if gateway:
        router = cmd.create("routers", {"name": args.name + "-router",
                                        "external_gateway_info": gateway})
        cmd.request("PUT", "routers/%s/add_router_interface" % router["id"],
                    json={"subnet_id": subnet["id"]})
        result["router"] = router["id"]
    client.print_object(_fmt(args), result)


def _agent_list(args: argparse.Namespace) -> None:
    agents = _Commands(args).request("GET", "agents").json()["agents"]
    client.print_rows(_fmt(args), AGENT_COLUMNS, agents)


def _build(parser: argparse.ArgumentParser) -> None:
    client.add_common_args(parser)
    fmt = [client.format_parent()]
    verbs = parser.add_subparsers(title="commands", metavar="<command>")

    verbs.add_parser("list", parents=fmt, help="List the networks you can see.") \
        .set_defaults(func=_list)
    show = verbs.add_parser("show", parents=fmt, help="Show one network.")
    show.add_argument("network", metavar="NAME_OR_ID")
    show.set_defaults(func=_show)
    create = verbs.add_parser("create", parents=fmt, help="Create a network.")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--external", action="store_true",
                        help="Routers may use it as their gateway (admin only).")
    create.add_argument("--shared", action="store_true", help="Every project may use it "
                                                              "(admin only).")
    create.set_defaults(func=_create)
    delete = verbs.add_parser("delete", help="Delete a network (its ports must be gone).")
    delete.add_argument("network", metavar="NAME_OR_ID")
    delete.set_defaults(func=_delete)

    subnet = verbs.add_parser("subnet-create", parents=fmt, help="Add a subnet to a network.")
    subnet.add_argument("network", metavar="NETWORK")
    subnet.add_argument("--cidr", required=True, help="e.g. 10.0.0.0/24 or 2001:db8::/64.")
    subnet.add_argument("--name", dest="subnet_name")
    subnet.add_argument("--gateway", help="Gateway address, or 'none' (default: first host).")
    subnet.add_argument("--no-dhcp", action="store_true", help="Disable DHCP.")
    subnet.set_defaults(func=_subnet_create)

    plist = verbs.add_parser("port-list", parents=fmt, help="List ports.")
    plist.add_argument("--network", help="Only ports on this network.")
    plist.set_defaults(func=_port_list)
    pcreate = verbs.add_parser("port-create", parents=fmt, help="Create a port.")
    pcreate.add_argument("network", metavar="NETWORK")
    pcreate.add_argument("--name")
    pcreate.add_argument("--fixed-ip", action="append", metavar="IP",
                         help="A fixed address (repeat for more; network owner or admin).")
    pcreate.set_defaults(func=_port_create)

    router = verbs.add_parser("router-create", parents=fmt, help="Create a router.")
    router.add_argument("name", metavar="NAME")
    router.add_argument("--external-gateway", metavar="NETWORK",
                        help="External network for the router's gateway (SNAT on).")
    router.set_defaults(func=_router_create)
    add = verbs.add_parser("router-add-subnet", parents=fmt,
                           help="Attach a subnet to a router (at the subnet's gateway IP).")
    add.add_argument("router", metavar="ROUTER")
    add.add_argument("subnet", metavar="SUBNET")
    add.set_defaults(func=_router_add_subnet)

    fip = verbs.add_parser("floating-ip-create", parents=fmt,
                           help="Allocate a floating IP, optionally for a port.")
    fip.add_argument("network", metavar="EXTERNAL_NETWORK")
    fip.add_argument("--port", help="Associate it with this port.")
    fip.set_defaults(func=_fip_create)

    quick = verbs.add_parser("quickstart", parents=fmt,
                             help="Create a network with a subnet and a router to an "
                                  "external network in one go.")
    quick.add_argument("name", metavar="NAME")
    quick.add_argument("--cidr", required=True)
    quick.add_argument("--external-gateway", metavar="NETWORK")
    quick.set_defaults(func=_quickstart)

    verbs.add_parser("agent-list", parents=fmt, help="List agents (admin only).") \
        .set_defaults(func=_agent_list)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``network`` group of ``stratus``."""
    return client.run(prog, argv, _build)
