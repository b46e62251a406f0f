"""``stratus compute ...``: the common flows of the compute service.

    stratus compute list [--all-projects] | show SERVER
    stratus compute create NAME --image IMAGE --flavor FLAVOR [--network NET ...]
                           [--key-name KEY] [--user-data FILE] [--count N] [--wait]
    stratus compute delete SERVER [--wait]
    stratus compute stop|start|pause|unpause|suspend|resume SERVER [--wait]
    stratus compute reboot SERVER [--hard] [--wait]
    stratus compute resize SERVER FLAVOR [--wait] | resize-confirm | resize-revert SERVER
    stratus compute snapshot SERVER NAME [--wait]
    stratus compute console-log SERVER [--lines N]
    stratus compute flavor-list | keypair-list | keypair-create NAME [--public-key FILE]

Servers, images, flavors and networks may be named or given by id. ``--wait``
shows a live status line (on a terminal) until the server settles, and fails
with the server's fault when it goes to ERROR.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from common.cli import client

SERVER_COLUMNS = ("id", "name", "status", "networks", "image", "flavor")
FLAVOR_COLUMNS = ("id", "name", "ram", "vcpus", "disk", "is_public")
KEYPAIR_COLUMNS = ("name", "fingerprint", "type")
# The version whose server view (flavor embedded with its name) this CLI reads.
MICROVERSION = "2.1"
WAIT_TIMEOUT = 600.0
# Statuses a server passes through on its way to a settled one.
TRANSIENT = frozenset(("BUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "REVERT_RESIZE",
                       "MIGRATING", "REBUILD", "PASSWORD"))


class _Commands(client.ServiceClient):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args.auth_url, "compute", prefix="")
        self.args = args
        self._other: dict[str, client.ServiceClient] = {}

    def api(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        headers.setdefault("X-OpenStack-Nova-API-Version", MICROVERSION)
        return self.request(method, path, ok=ok, headers=headers, **kwargs)

    def other(self, service_type: str, prefix: str) -> client.ServiceClient:
        if service_type not in self._other:
            self._other[service_type] = client.ServiceClient(self.args.auth_url, service_type,
                                                             prefix=prefix)
        return self._other[service_type]

    def _find(self, what: str, listing: list[dict[str, Any]], name_or_id: str,
              hint: str) -> dict[str, Any]:
        exact = [item for item in listing if item.get("id") == name_or_id]
        found = exact or [item for item in listing if item.get("name") == name_or_id]
        if not found:
            raise client.CLIError("no %s named or with ID %r (%s lists them)"
                                  % (what, name_or_id, hint))
        if len(found) > 1:
            raise client.CLIError("%d %ss are named %r: use an ID (%s)" % (
                len(found), what, name_or_id, ", ".join(str(f["id"]) for f in found)))
        return found[0]

    def server(self, name_or_id: str) -> dict[str, Any]:
        if client.is_uuid(name_or_id):
            resp = self.api("GET", "/servers/%s" % name_or_id, ok=(200, 404))
            if resp.status_code == 200:
                return dict(resp.json()["server"])
        listing = self.api("GET", "/servers", params={"name": "^%s$" % name_or_id}).json()
        return dict(self.api("GET", "/servers/%s" % self._find(
            "server", listing["servers"], name_or_id, "`stratus compute list`")["id"]
        ).json()["server"])

    def flavor(self, name_or_id: str) -> dict[str, Any]:
        flavors = self.api("GET", "/flavors").json()["flavors"]
        return self._find("flavor", flavors, name_or_id, "`stratus compute flavor-list`")

    def image(self, name_or_id: str) -> dict[str, Any]:
        images = self.other("image", "/v2/")
        if client.is_uuid(name_or_id):
            resp = images.request("GET", "images/%s" % name_or_id, ok=(200, 404))
            if resp.status_code == 200:
                return dict(resp.json())
        found = images.request("GET", "images", params={"name": name_or_id}).json()["images"]
        return self._find("image", found, name_or_id, "`stratus image list`")

    def network(self, name_or_id: str) -> dict[str, Any]:
        nets = self.other("network", "/v2.0/")
        if client.is_uuid(name_or_id):
            resp = nets.request("GET", "networks/%s" % name_or_id, ok=(200, 404))
            if resp.status_code == 200:
                return dict(resp.json()["network"])
        found = nets.request("GET", "networks", params={"name": name_or_id}).json()["networks"]
        return self._find("network", found, name_or_id, "`stratus network list`")

    def action(self, server_id: str, body: dict[str, Any]) -> Any:
        return self.api("POST", "/servers/%s/action" % server_id, ok=(200, 202, 204), json=body)


def _fmt(args: argparse.Namespace) -> str:
    return str(getattr(args, "format", "table"))


def _networks(server: dict[str, Any]) -> str:
    parts = []
    for label, addrs in sorted((server.get("addresses") or {}).items()):
        parts.append("%s=%s" % (label, ", ".join(a.get("addr", "") for a in addrs)))
    return "; ".join(parts)


def _row(server: dict[str, Any]) -> dict[str, Any]:
    row = dict(server)
    row["networks"] = _networks(server)
    image = server.get("image")
    row["image"] = image.get("id") if isinstance(image, dict) else "(booted from volume)"
    flavor = server.get("flavor") or {}
    row["flavor"] = flavor.get("original_name") or flavor.get("id", "")
    return row


def _status_line(text: str, final: bool = False) -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + text + ("\n" if final else ""))
        sys.stderr.flush()
    elif final:
        print(text, file=sys.stderr)


def _wait(cmd: _Commands, server_id: str, until: set[str] | None = None,
          gone: bool = False) -> dict[str, Any] | None:
    """Poll the server until it leaves the transient statuses (or reaches ``until``,
    or is gone); raise a CLIError with its fault if it goes to ERROR."""
    start = time.monotonic()
    while True:
        resp = cmd.api("GET", "/servers/%s" % server_id, ok=(200, 404))
        elapsed = time.monotonic() - start
        if resp.status_code == 404:
            if gone:
                _status_line("server %s deleted (%.0f s)" % (server_id, elapsed), final=True)
                return None
            raise client.CLIError("server %s disappeared while waiting" % server_id)
        server = dict(resp.json()["server"])
        status, task = server.get("status"), server.get("OS-EXT-STS:task_state")
        _status_line("server %s: %s%s (%.0f s)" % (server.get("name"), status,
                                                   " / %s" % task if task else "", elapsed))
        if status == "ERROR":
            fault = (server.get("fault") or {}).get("message", "no fault recorded")
            _status_line("server %s: ERROR" % server.get("name"), final=True)
            raise client.CLIError("server %s went to ERROR: %s (`stratus compute show %s`)"
                                  % (server_id, fault, server_id))
        settled = status in until if until else status not in TRANSIENT and not task
        if settled and not gone:
            _status_line("server %s: %s (%.0f s)" % (server.get("name"), status, elapsed),
                         final=True)
            return server
        if elapsed > WAIT_TIMEOUT:
            raise client.CLIError("server %s still %s after %.0f s" % (server_id, status,
                                                                       elapsed))
        time.sleep(1.0 if elapsed > 10 else 0.3)


def _list(args: argparse.Namespace) -> None:
    params = {"all_tenants": "1"} if args.all_projects else {}
    servers = _Commands(args).api("GET", "/servers/detail", params=params).json()["servers"]
    client.print_rows(_fmt(args), SERVER_COLUMNS, [_row(s) for s in servers])


def _show(args: argparse.Namespace) -> None:
    client.print_object(_fmt(args), _Commands(args).server(args.server))


def _create(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    body: dict[str, Any] = {"name": args.name, "imageRef": cmd.image(args.image)["id"],
                            "flavorRef": cmd.flavor(args.flavor)["id"]}
    if args.network:
        body["networks"] = [{"uuid": cmd.network(n)["id"]} for n in args.network]
    if args.key_name:
        body["key_name"] = args.key_name
    if args.user_data:
        import base64
        with open(args.user_data, "rb") as src:
            body["user_data"] = base64.b64encode(src.read()).decode()
    if args.count > 1:
        body["min_count"] = body["max_count"] = args.count
    created = cmd.api("POST", "/servers", ok=(202,), json={"server": body}).json()
    server_id = created["server"]["id"]
    if args.wait and args.count == 1:
        server = _wait(cmd, server_id)
        client.print_object(_fmt(args), server or {})
        return
    client.print_object(_fmt(args), cmd.server(server_id))


def _delete(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    server = cmd.server(args.server)
    cmd.api("DELETE", "/servers/%s" % server["id"], ok=(204,))
    if args.wait:
        _wait(cmd, server["id"], gone=True)
    else:
        print("deleting server %s (%s)" % (server.get("name"), server["id"]))


_ACTIONS = {
    "stop": ({"os-stop": None}, {"SHUTOFF"}), "start": ({"os-start": None}, {"ACTIVE"}),
    "pause": ({"pause": None}, {"PAUSED"}), "unpause": ({"unpause": None}, {"ACTIVE"}),
    "suspend": ({"suspend": None}, {"SUSPENDED"}), "resume": ({"resume": None}, {"ACTIVE"}),
    "resize-confirm": ({"confirmResize": None}, {"ACTIVE", "SHUTOFF"}),
    "resize-revert": ({"revertResize": None}, {"ACTIVE", "SHUTOFF"}),
}


def _simple_action(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    server = cmd.server(args.server)
    body, until = _ACTIONS[args.verb]
    cmd.action(server["id"], body)
    if getattr(args, "wait", False):
        _wait(cmd, server["id"], until=until)
    else:
        print("%s requested for server %s" % (args.verb, server.get("name")))


def _reboot(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    server = cmd.server(args.server)
    cmd.action(server["id"], {"reboot": {"type": "HARD" if args.hard else "SOFT"}})
    if args.wait:
        time.sleep(0.2)
        _wait(cmd, server["id"], until={"ACTIVE"})
    else:
        print("reboot requested for server %s" % server.get("name"))


def _resize(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    server = cmd.server(args.server)
    cmd.action(server["id"], {"resize": {"flavorRef": cmd.flavor(args.flavor)["id"]}})
    if args.wait:
        _wait(cmd, server["id"], until={"VERIFY_RESIZE"})
        print("confirm with `stratus compute resize-confirm %s` (or resize-revert)"
              % server["id"])
    else:
        print("resize requested for server %s" % server.get("name"))


def _snapshot(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    server = cmd.server(args.server)
    resp = cmd.action(server["id"], {"createImage": {"name": args.name}})
    image_id = resp.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
    print("snapshot %s of server %s: image %s" % (args.name, server.get("name"), image_id))
    if args.wait and image_id:
        images = cmd.other("image", "/v2/")
        start = time.monotonic()
        while True:
            image = images.request("GET", "images/%s" % image_id).json()
            _status_line("image %s: %s (%.0f s)" % (args.name, image.get("status"),
                                                    time.monotonic() - start))
            if image.get("status") in ("active", "killed", "deleted"):
                _status_line("image %s: %s" % (args.name, image.get("status")), final=True)
                if image.get("status") != "active":
                    raise client.CLIError("snapshot %s failed: image is %s"
                                          % (image_id, image.get("status")))
                return
            time.sleep(0.5)


def _console_log(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    server = cmd.server(args.server)
    body: dict[str, Any] = {"os-getConsoleOutput": {}}
    if args.lines:
        body["os-getConsoleOutput"]["length"] = args.lines
    print(cmd.action(server["id"], body).json().get("output", ""), end="")


def _flavor_list(args: argparse.Namespace) -> None:
    flavors = _Commands(args).api("GET", "/flavors/detail").json()["flavors"]
    rows = [dict(f, is_public=f.get("os-flavor-access:is_public")) for f in flavors]
    client.print_rows(_fmt(args), FLAVOR_COLUMNS, rows)


def _keypair_list(args: argparse.Namespace) -> None:
    pairs = _Commands(args).api("GET", "/os-keypairs").json()["keypairs"]
    client.print_rows(_fmt(args), KEYPAIR_COLUMNS, [p["keypair"] for p in pairs])


def _keypair_create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"name": args.name}
    if args.public_key:
        with open(args.public_key) as src:
            body["public_key"] = src.read().strip()
    created = _Commands(args).api("POST", "/os-keypairs", ok=(200, 201),
                                  json={"keypair": body}).json()["keypair"]
    if created.get("private_key"):
        # A generated key: print the private half once, as Nova returns it once.
        print(created["private_key"], end="")
        return
    client.print_object(_fmt(args), created)


def _build(parser: argparse.ArgumentParser) -> None:
    client.add_common_args(parser)
    fmt = [client.format_parent()]
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")

    lst = verbs.add_parser("list", parents=fmt, help="List servers.")
    lst.add_argument("--all-projects", action="store_true", help="Every project's (admin).")
    lst.set_defaults(func=_list)
    show = verbs.add_parser("show", parents=fmt, help="Show a server.")
    show.add_argument("server", metavar="SERVER")
    show.set_defaults(func=_show)

    create = verbs.add_parser("create", parents=fmt, help="Boot a server.")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--image", required=True, help="Image name or ID.")
    create.add_argument("--flavor", required=True, help="Flavor name or ID.")
    create.add_argument("--network", action="append", metavar="NET",
                        help="Network name or ID (repeat for more NICs; default: the "
                             "project's only network).")
    create.add_argument("--key-name", help="Key pair whose public key the guest gets.")
    create.add_argument("--user-data", metavar="FILE", help="User data file for the guest.")
    create.add_argument("--count", type=int, default=1, help="Boot this many.")
    create.add_argument("--wait", action="store_true", help="Wait until it is ACTIVE.")
    create.set_defaults(func=_create)

    delete = verbs.add_parser("delete", help="Delete a server.")
    delete.add_argument("server", metavar="SERVER")
    delete.add_argument("--wait", action="store_true", help="Wait until it is gone.")
    delete.set_defaults(func=_delete)

    for verb in _ACTIONS:
        sub = verbs.add_parser(verb, help="%s a server." % verb.replace("-", " ").capitalize())
        sub.add_argument("server", metavar="SERVER")
        sub.add_argument("--wait", action="store_true", help="Wait until it settles.")
        sub.set_defaults(func=_simple_action, verb=verb)
    reboot = verbs.add_parser("reboot", help="Reboot a server (soft unless --hard).")
    reboot.add_argument("server", metavar="SERVER")
    reboot.add_argument("--hard", action="store_true")
    reboot.add_argument("--wait", action="store_true")
    reboot.set_defaults(func=_reboot)
    resize = verbs.add_parser("resize", help="Resize a server to another flavor.")
    resize.add_argument("server", metavar="SERVER")
    resize.add_argument("flavor", metavar="FLAVOR")
    resize.add_argument("--wait", action="store_true", help="Wait for VERIFY_RESIZE.")
    resize.set_defaults(func=_resize)
    snap = verbs.add_parser("snapshot", help="Snapshot a server into a new image.")
    snap.add_argument("server", metavar="SERVER")
    snap.add_argument("name", metavar="IMAGE_NAME")
    snap.add_argument("--wait", action="store_true", help="Wait until the image is active.")
    snap.set_defaults(func=_snapshot)
    console = verbs.add_parser("console-log", help="Print a server's console output.")
    console.add_argument("server", metavar="SERVER")
    console.add_argument("--lines", type=int, help="Only the last N lines.")
    console.set_defaults(func=_console_log)

    verbs.add_parser("flavor-list", parents=fmt, help="List flavors.") \
        .set_defaults(func=_flavor_list)
    verbs.add_parser("keypair-list", parents=fmt, help="List your key pairs.") \
        .set_defaults(func=_keypair_list)
    kcreate = verbs.add_parser("keypair-create", parents=fmt,
                               help="Import a public key, or generate a pair (the private "
                                    "key is printed once).")
    kcreate.add_argument("name", metavar="NAME")
    kcreate.add_argument("--public-key", metavar="FILE", help="An ssh public key file.")
    kcreate.set_defaults(func=_keypair_create)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``compute`` group of ``stratus``."""
    return client.run(prog, argv, _build)
