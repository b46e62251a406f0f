"""``stratus volume ...``: the common flows of the block storage service.

    stratus volume list [--all-projects] | show VOLUME
    stratus volume create NAME --size GB [--image IMG | --snapshot SNAP | --source VOL]
                          [--type TYPE] [--description TEXT] [--property K=V ...] [--wait]
    stratus volume delete VOLUME [--wait] | extend VOLUME GB [--wait]
    stratus volume attach SERVER VOLUME [--device DEV] [--wait] | detach SERVER VOLUME [--wait]
    stratus volume snapshot create VOLUME [--name N] [--force] [--wait] | list | show | delete
    stratus volume backup create VOLUME [--name N] [--incremental] [--force] [--wait]
    stratus volume backup restore BACKUP [--volume VOL | --name N] [--wait] | list | show | delete

Volumes, snapshots, backups, servers and images may be named or given by ID.
``--wait`` shows a live status line (on a terminal) until the resource settles,
and fails with the reason when it goes to an error status. Attaching goes
through the compute service (its os-volume_attachments API), as on Nova.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Any, Callable

from common.cli import client

SERVICE_TYPE = "block-storage"
#: The base version: every call here is in it (extending an attached volume: 3.42).
MICROVERSION = "3.0"
EXTEND_ATTACHED_MICROVERSION = "3.42"
#: The user messages API (why a volume went to error).
MESSAGES_MICROVERSION = "3.3"
COMPUTE_MICROVERSION = "2.1"
WAIT_TIMEOUT = 900.0
VOLUME_COLUMNS = ("id", "name", "status", "size", "volume_type", "bootable", "attached_to")
SNAPSHOT_COLUMNS = ("id", "name", "status", "size", "volume_id")
BACKUP_COLUMNS = ("id", "name", "status", "size", "volume_id", "is_incremental")


@dataclasses.dataclass(frozen=True)
class Kind:
    """One resource type of the API: its URL, JSON key and statuses."""

    name: str
    path: str
    transient: frozenset[str]
    hint: str

    @property
    def plural(self) -> str:
        return self.path.strip("/")


VOLUME = Kind("volume", "/volumes", frozenset((
    "creating", "attaching", "detaching", "deleting", "extending", "downloading", "uploading",
    "retyping", "backing-up", "restoring-backup", "reserved", "maintenance",
    "awaiting-transfer")), "`stratus volume list`")
SNAPSHOT = Kind("snapshot", "/snapshots", frozenset(("creating", "deleting", "backing-up",
                                                     "restoring")),
                "`stratus volume snapshot list`")
BACKUP = Kind("backup", "/backups", frozenset(("creating", "deleting", "restoring")),
              "`stratus volume backup list`")


def _is_error(status: str | None) -> bool:
    return bool(status) and str(status).startswith("error")


class Commands(client.ServiceClient):
    """The user's session on block storage, plus compute and image for look-ups."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args.auth_url, SERVICE_TYPE)
        self.args = args
        self._other: dict[str, client.ServiceClient] = {}

    def api(self, method: str, path: str, ok: tuple[int, ...] = (200,),
            microversion: str = MICROVERSION, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("OpenStack-API-Version", "volume " + microversion)
        return self.request(method, path, ok=ok, headers=headers, **kwargs)

    def other(self, service_type: str) -> client.ServiceClient:
        if service_type not in self._other:
            self._other[service_type] = client.ServiceClient(self.args.auth_url, service_type)
        return self._other[service_type]

    def get(self, kind: Kind, item_id: str) -> dict[str, Any] | None:
        """The resource, or None when it is gone (404)."""
        resp = self.api("GET", "%s/%s" % (kind.path, item_id), ok=(200, 404))
        return dict(resp.json()[kind.name]) if resp.status_code == 200 else None

    def list_all(self, kind: Kind, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every page of ``<kind>/detail`` (following the ``next`` links)."""
        items: list[dict[str, Any]] = []
        page = self.api("GET", "%s/detail" % kind.path, params=params or {}).json()
        while True:
            items.extend(page.get(kind.plural, []))
            nxt = [link["href"] for link in page.get("%s_links" % kind.plural, [])
                   if link.get("rel") == "next"]
            if not nxt:
                return items
            # The link is absolute: keystoneauth sends an absolute URL as it is.
            page = self.api("GET", nxt[0]).json()

    def find(self, kind: Kind, name_or_id: str) -> dict[str, Any]:
        if client.is_uuid(name_or_id):
            found = self.get(kind, name_or_id)
            if found is not None:
                return found
        listing = self.list_all(kind, {"name": name_or_id})
        return _one(kind.name, [i for i in listing if name_or_id in (i.get("id"), i.get("name"))],
                    name_or_id, kind.hint)

    def compute(self, method: str, path: str, ok: tuple[int, ...] = (200,),
                **kwargs: Any) -> Any:
        headers = {"X-OpenStack-Nova-API-Version": COMPUTE_MICROVERSION}
        return self.other("compute").request(method, path, ok=ok, headers=headers, **kwargs)

    def server(self, name_or_id: str) -> dict[str, Any]:
        if client.is_uuid(name_or_id):
            resp = self.compute("GET", "/servers/%s" % name_or_id, ok=(200, 404))
            if resp.status_code == 200:
                return dict(resp.json()["server"])
        listing = self.compute("GET", "/servers", params={"name": "^%s$" % name_or_id}).json()
        return _one("server", [s for s in listing["servers"]
                               if name_or_id in (s.get("id"), s.get("name"))],
                    name_or_id, "`stratus compute list`")

    def image_id(self, name_or_id: str) -> str:
        images = self.other("image")
        if client.is_uuid(name_or_id):
            resp = images.request("GET", "/v2/images/%s" % name_or_id, ok=(200, 404))
            if resp.status_code == 200:
                return str(resp.json()["id"])
        found = images.request("GET", "/v2/images", params={"name": name_or_id}).json()
        return str(_one("image", found["images"], name_or_id, "`stratus image list`")["id"])

    def failure(self, kind: Kind, item: dict[str, Any]) -> str:
        """Why a resource went to an error status, as far as the API tells."""
        if item.get("fail_reason"):
            return str(item["fail_reason"])
        if kind is VOLUME or kind is SNAPSHOT:
            try:
                resp = self.api("GET", "/messages", ok=(200, 400, 404, 406),
                                microversion=MESSAGES_MICROVERSION,
                                params={"resource_uuid": item["id"]})
            except client.CLIError:
                resp = None
            messages = resp.json().get("messages", []) if resp is not None and \
                resp.status_code == 200 else []
            if messages:
                return str(messages[-1].get("user_message") or messages[-1])
        return "no reason recorded; the block storage daemons' logs tell more"


def _one(what: str, found: list[dict[str, Any]], name_or_id: str,
         hint: str) -> dict[str, Any]:
    exact = [item for item in found if item.get("id") == name_or_id] or found
    if not exact:
        raise client.CLIError("no %s named or with ID %r (%s lists them)"
                              % (what, name_or_id, hint))
    if len(exact) > 1:
        raise client.CLIError("%d %ss are named %r: use an ID (%s)" % (
            len(exact), what, name_or_id, ", ".join(str(i.get("id")) for i in exact)))
    return dict(exact[0])


def _fmt(args: argparse.Namespace) -> str:
    return str(getattr(args, "format", "table"))


def _status_line(text: str, final: bool = False) -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + text + ("\n" if final else ""))
        sys.stderr.flush()
    elif final:
        print(text, file=sys.stderr)


def wait(cmd: Commands, kind: Kind, item_id: str, gone: bool = False,
         done: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any] | None:
    """Poll until the resource leaves the transient statuses (and ``done`` holds), or is
    gone when ``gone``; a CLIError with the reason when it goes to an error status."""
    start = time.monotonic()
    while True:
        item = cmd.get(kind, item_id)
        elapsed = time.monotonic() - start
        if item is None:
            if gone:
                _status_line("%s %s deleted (%.0f s)" % (kind.name, item_id, elapsed), True)
                return None
            raise client.CLIError("%s %s disappeared while waiting" % (kind.name, item_id))
        label = "%s %s" % (kind.name, item.get("name") or item_id)
        status = item.get("status")
        _status_line("%s: %s (%.0f s)" % (label, status, elapsed))
        if _is_error(status):
            _status_line("%s: %s" % (label, status), final=True)
            raise client.CLIError("%s %s went to %s: %s (`stratus volume %s%s`)" % (
                kind.name, item_id, status, cmd.failure(kind, item),
                "" if kind is VOLUME else kind.name + " ", "show " + item_id))
        if not gone and status not in kind.transient and (done is None or done(item)):
            _status_line("%s: %s (%.0f s)" % (label, status, elapsed), final=True)
            return item
        if elapsed > WAIT_TIMEOUT:
            raise client.CLIError("%s %s still %s after %.0f s" % (kind.name, item_id, status,
                                                                   elapsed))
        time.sleep(1.0 if elapsed > 10 else 0.3)


def _volume_row(volume: dict[str, Any]) -> dict[str, Any]:
    row = dict(volume)
    row["attached_to"] = ", ".join(str(a.get("server_id"))
                                   for a in volume.get("attachments") or [])
    return row


def _properties(pairs: list[str] | None) -> dict[str, str]:
    props: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise client.CLIError("--property %r: write it as KEY=VALUE" % pair)
        props[key] = value
    return props


# -- volumes -------------------------------------------------------------------

def _list(args: argparse.Namespace) -> None:
    params = {"all_tenants": "1"} if args.all_projects else {}
    volumes = Commands(args).list_all(VOLUME, params)
    client.print_rows(_fmt(args), VOLUME_COLUMNS, [_volume_row(v) for v in volumes])


def _show(args: argparse.Namespace) -> None:
    client.print_object(_fmt(args), Commands(args).find(VOLUME, args.volume))


def create_body(cmd: Commands, args: argparse.Namespace) -> dict[str, Any]:
    """The ``volume`` object of a create request, sources resolved to IDs."""
    sources = [s for s in (args.image, args.snapshot, args.source) if s]
    if len(sources) > 1:
        raise client.CLIError("give at most one of --image, --snapshot and --source")
    if args.size is None and not (args.snapshot or args.source):
        raise client.CLIError("--size GB is needed (it may be left out only with --snapshot "
                              "or --source, whose size the new volume takes)")
    if args.size is not None and args.size < 1:
        raise client.CLIError("--size must be at least 1 (GiB), not %d" % args.size)
    body: dict[str, Any] = {"name": args.name}
    if args.size is not None:
        body["size"] = args.size
    if args.description:
        body["description"] = args.description
    if args.type:
        body["volume_type"] = args.type
    if args.availability_zone:
        body["availability_zone"] = args.availability_zone
    if args.property:
        body["metadata"] = _properties(args.property)
    if args.image:
        body["imageRef"] = cmd.image_id(args.image)
    if args.snapshot:
        body["snapshot_id"] = cmd.find(SNAPSHOT, args.snapshot)["id"]
    if args.source:
        body["source_volid"] = cmd.find(VOLUME, args.source)["id"]
    return body


def _create(args: argparse.Namespace) -> None:
    cmd = Commands(args)
    body = create_body(cmd, args)
    volume = dict(cmd.api("POST", "/volumes", ok=(202, 200),
                          json={"volume": body}).json()["volume"])
    if args.wait:
        volume = wait(cmd, VOLUME, volume["id"]) or volume
    client.print_object(_fmt(args), volume)


def _attached_hint(volume: dict[str, Any]) -> str:
    servers = [str(a.get("server_id")) for a in volume.get("attachments") or []]
    if not servers:
        return ""
    return ": it is attached to server %s; detach it first (`stratus volume detach %s %s`)" % (
        ", ".join(servers), servers[0], volume["id"])


def _delete(args: argparse.Namespace) -> None:
    cmd = Commands(args)
    volume = cmd.find(VOLUME, args.volume)
    if volume.get("attachments"):
        raise client.CLIError("cannot delete volume %s%s" % (volume["id"],
                                                             _attached_hint(volume)))
    cmd.api("DELETE", "/volumes/%s" % volume["id"], ok=(202, 204))
    if args.wait:
        wait(cmd, VOLUME, volume["id"], gone=True)
    else:
        print("deleting volume %s (%s)" % (volume.get("name"), volume["id"]))


def _extend(args: argparse.Namespace) -> None:
    cmd = Commands(args)
    volume = cmd.find(VOLUME, args.volume)
    if args.size <= int(volume.get("size") or 0):
        raise client.CLIError("volume %s is %s GiB already: the new size must be larger "
                              "(volumes only grow)" % (volume["id"], volume.get("size")))
    version = EXTEND_ATTACHED_MICROVERSION if volume.get("status") == "in-use" else MICROVERSION
    cmd.api("POST", "/volumes/%s/action" % volume["id"], ok=(202, 200),
            microversion=version, json={"os-extend": {"new_size": args.size}})
    if args.wait:
        client.print_object(_fmt(args), wait(
            cmd, VOLUME, volume["id"], done=lambda v: int(v.get("size") or 0) >= args.size)
            or {})
    else:
        print("extending volume %s to %d GiB" % (volume["id"], args.size))


def _attach(args: argparse.Namespace) -> None:
    cmd = Commands(args)
    volume = cmd.find(VOLUME, args.volume)
    server = cmd.server(args.server)
    body: dict[str, Any] = {"volumeId": volume["id"]}
    if args.device:
        body["device"] = args.device
    attachment = cmd.compute("POST", "/servers/%s/os-volume_attachments" % server["id"],
                             json={"volumeAttachment": body}).json()["volumeAttachment"]
    if args.wait:
        wait(cmd, VOLUME, volume["id"], done=lambda v: v.get("status") == "in-use")
    client.print_object(_fmt(args), dict(attachment))


def _detached(volume: dict[str, Any], server_id: str) -> bool:
    """The server's attachment is gone and the status says so (``available``, or still
    ``in-use`` by other servers)."""
    servers = [a.get("server_id") for a in volume.get("attachments") or []]
    if server_id in servers:
        return False
    return volume.get("status") == "available" or bool(servers)


def _detach(args: argparse.Namespace) -> None:
    cmd = Commands(args)
    volume = cmd.find(VOLUME, args.volume)
    server = cmd.server(args.server)
    resp = cmd.compute("DELETE", "/servers/%s/os-volume_attachments/%s" % (
        server["id"], volume["id"]), ok=(202, 204, 404))
    if resp.status_code == 404:
        raise client.CLIError("volume %s is not attached to server %s (`stratus volume show "
                              "%s` names its servers)" % (volume["id"], server["id"],
                                                          volume["id"]))
    if args.wait:
        wait(cmd, VOLUME, volume["id"], done=lambda v: _detached(v, server["id"]))
    else:
        print("detaching volume %s from server %s" % (volume["id"], server["id"]))


# -- snapshots and backups -----------------------------------------------------

def _kind_list(kind: Kind, columns: tuple[str, ...]) -> Callable[[argparse.Namespace], None]:
    def run(args: argparse.Namespace) -> None:
        params = {"all_tenants": "1"} if getattr(args, "all_projects", False) else {}
        client.print_rows(_fmt(args), columns, Commands(args).list_all(kind, params))
    return run


def _kind_show(kind: Kind) -> Callable[[argparse.Namespace], None]:
    def run(args: argparse.Namespace) -> None:
        client.print_object(_fmt(args), Commands(args).find(kind, args.item))
    return run


def _kind_delete(kind: Kind) -> Callable[[argparse.Namespace], None]:
    def run(args: argparse.Namespace) -> None:
        cmd = Commands(args)
        item = cmd.find(kind, args.item)
        cmd.api("DELETE", "%s/%s" % (kind.path, item["id"]), ok=(202, 204))
        if args.wait:
            wait(cmd, kind, item["id"], gone=True)
        else:
            print("deleting %s %s (%s)" % (kind.name, item.get("name"), item["id"]))
    return run


def _copy_body(cmd: Commands, args: argparse.Namespace, what: str) -> dict[str, Any]:
    """The body of a snapshot or backup create: the volume resolved, attached ones only
    with --force."""
    volume = cmd.find(VOLUME, args.volume)
    if volume.get("status") == "in-use" and not args.force:
        raise client.CLIError("volume %s is attached (in-use): pass --force to take the %s "
                              "anyway (its data may be inconsistent), or detach it first"
                              % (volume["id"], what))
    body: dict[str, Any] = {"volume_id": volume["id"], "name": args.name}
    if args.description:
        body["description"] = args.description
    if args.force:
        body["force"] = True
    return body


def _snapshot_create(args: argparse.Namespace) -> None:
    cmd = Commands(args)
    body = _copy_body(cmd, args, "snapshot")
    snap = dict(cmd.api("POST", "/snapshots", ok=(202, 200),
                        json={"snapshot": body}).json()["snapshot"])
    if args.wait:
        snap = wait(cmd, SNAPSHOT, snap["id"]) or snap
    client.print_object(_fmt(args), snap)


def _backup_create(args: argparse.Namespace) -> None:
    cmd = Commands(args)
    body = _copy_body(cmd, args, "backup")
    if args.incremental:
        body["incremental"] = True
    if args.container:
        body["container"] = args.container
    created = cmd.api("POST", "/backups", ok=(202, 200), json={"backup": body}).json()["backup"]
    backup = wait(cmd, BACKUP, created["id"]) if args.wait else cmd.get(BACKUP, created["id"])
    client.print_object(_fmt(args), backup or dict(created))


def _backup_restore(args: argparse.Namespace) -> None:
    cmd = Commands(args)
    backup = cmd.find(BACKUP, args.backup)
    if backup.get("status") != "available":
        raise client.CLIError("backup %s is %s: only an available backup can be restored"
                              % (backup["id"], backup.get("status")))
    restore: dict[str, Any] = {}
    if args.volume:
        volume = cmd.find(VOLUME, args.volume)
        if volume.get("status") != "available":
            raise client.CLIError("volume %s is %s: restore into an available, detached "
                                  "volume (or leave --volume out for a new one)"
                                  % (volume["id"], volume.get("status")))
        restore["volume_id"] = volume["id"]
    elif args.name:
        restore["name"] = args.name
    result = dict(cmd.api("POST", "/backups/%s/restore" % backup["id"], ok=(202, 200),
                          json={"restore": restore}).json()["restore"])
    if args.wait:
        wait(cmd, VOLUME, result["volume_id"])
    client.print_object(_fmt(args), result)


# -- the parser ----------------------------------------------------------------

def _verb(verbs: Any, name: str, func: Callable[[argparse.Namespace], None], help_text: str,
          fmt: list[argparse.ArgumentParser], *positionals: tuple[str, str],
          wait_help: str | None = None) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = verbs.add_parser(name, parents=fmt, help=help_text)
    for dest, metavar in positionals:
        parser.add_argument(dest, metavar=metavar)
    if wait_help:
        parser.add_argument("--wait", action="store_true", help=wait_help)
    parser.set_defaults(func=func)
    return parser


def _build_volumes(verbs: Any, fmt: list[argparse.ArgumentParser]) -> None:
    lst = _verb(verbs, "list", _list, "List volumes.", fmt)
    lst.add_argument("--all-projects", action="store_true", help="Every project's (admin).")
    _verb(verbs, "show", _show, "Show a volume.", fmt, ("volume", "VOLUME"))
    create = _verb(verbs, "create", _create, "Create a volume (empty, or from an image, a "
                   "snapshot or another volume).", fmt, ("name", "NAME"),
                   wait_help="Wait until it is available.")
    create.add_argument("--size", type=int, metavar="GB", help="Size in GiB.")
    source = create.add_mutually_exclusive_group()
    source.add_argument("--image", help="Image name or ID to copy into the volume.")
    source.add_argument("--snapshot", help="Snapshot name or ID to create it from.")
    source.add_argument("--source", metavar="VOLUME", help="Volume name or ID to clone.")
    create.add_argument("--type", help="Volume type (default: the cloud's default type).")
    create.add_argument("--description")
    create.add_argument("--availability-zone")
    create.add_argument("--property", action="append", metavar="KEY=VALUE",
                        help="Metadata (repeat for more).")
    _verb(verbs, "delete", _delete, "Delete a volume.", [], ("volume", "VOLUME"),
          wait_help="Wait until it is gone.")
    extend = _verb(verbs, "extend", _extend, "Grow a volume.", fmt, ("volume", "VOLUME"),
                   wait_help="Wait until it has the new size.")
    extend.add_argument("size", type=int, metavar="GB", help="The new size in GiB.")
    attach = _verb(verbs, "attach", _attach, "Attach a volume to a server.", fmt,
                   ("server", "SERVER"), ("volume", "VOLUME"),
                   wait_help="Wait until the volume is in-use.")
    attach.add_argument("--device", help="Device name to ask for, e.g. /dev/vdb.")
    _verb(verbs, "detach", _detach, "Detach a volume from a server.", [],
          ("server", "SERVER"), ("volume", "VOLUME"), wait_help="Wait until it is detached.")


def _build_copies(verbs: Any, fmt: list[argparse.ArgumentParser]) -> None:
    for kind, columns in ((SNAPSHOT, SNAPSHOT_COLUMNS), (BACKUP, BACKUP_COLUMNS)):
        group = verbs.add_parser(kind.name, help="%ss of volumes." % kind.name.capitalize())
        sub = group.add_subparsers(title="%s commands" % kind.name, metavar="COMMAND")
        create = _verb(sub, "create", _snapshot_create if kind is SNAPSHOT else _backup_create,
                       "Take a %s of a volume." % kind.name, fmt, ("volume", "VOLUME"),
                       wait_help="Wait until it is available.")
        create.add_argument("--name", help="Its name.")
        create.add_argument("--description")
        create.add_argument("--force", action="store_true",
                            help="Also of an attached (in-use) volume.")
        lst = _verb(sub, "list", _kind_list(kind, columns), "List %ss." % kind.name, fmt)
        lst.add_argument("--all-projects", action="store_true", help="Every project's (admin).")
        _verb(sub, "show", _kind_show(kind), "Show a %s." % kind.name, fmt,
              ("item", kind.name.upper()))
        _verb(sub, "delete", _kind_delete(kind), "Delete a %s." % kind.name, [],
              ("item", kind.name.upper()), wait_help="Wait until it is gone.")
        if kind is BACKUP:
            create.add_argument("--incremental", action="store_true",
                                help="Only what changed since the last backup.")
            create.add_argument("--container", help="Object store container (default: the "
                                                    "service's).")
            restore = _verb(sub, "restore", _backup_restore, "Restore a backup into a new "
                            "volume (or into --volume).", fmt, ("backup", "BACKUP"),
                            wait_help="Wait until the volume is available.")
            target = restore.add_mutually_exclusive_group()
            target.add_argument("--volume", help="An available volume to overwrite.")
            target.add_argument("--name", help="Name of the new volume.")


def _build(parser: argparse.ArgumentParser) -> None:
    client.add_common_args(parser)
    fmt = [client.format_parent()]
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")
    _build_volumes(verbs, fmt)
    _build_copies(verbs, fmt)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``volume`` group of ``stratus``."""
    return client.run(prog, argv, _build)
