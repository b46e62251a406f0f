"""``stratus image ...``: list, show, create (upload), download, share, accept, delete.

Uploads and downloads stream in chunks (a file is never read whole) and draw a
progress bar on stderr when stderr is a terminal; both check the md5 the image
service records in ``checksum``.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
import uuid
from typing import Any, BinaryIO, Iterator, TextIO

from keystoneauth1 import exceptions as ks_exc

from common.cli import client

CHUNK = 1 << 20
LIST_COLUMNS = ("id", "name", "status", "visibility", "size", "disk_format")
VISIBILITIES = ("public", "private", "shared", "community")
_HEX_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def _mib(n: float) -> str:
    return "%.1f MiB" % (n / 1048576.0)


class Progress:
    """A one-line progress bar on ``stream``; silent unless it is a terminal."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self._drawn = 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._drawn >= 0.1:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.start, 1e-6)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            text = "%s [%-30s] %3d%% %s/%s %s/s" % (self.label, bar, frac * 100,
                                                    _mib(self.done), _mib(self.total),
                                                    _mib(rate))
        else:
            text = "%s %s %s/s" % (self.label, _mib(self.done), _mib(rate))
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


class _FileBody:
    """A request body read from a file in chunks.

    Iterable (so requests streams it) and sized (so it is sent with a
    Content-Length rather than chunked); hashes what it sends.
    """

    def __init__(self, handle: BinaryIO, size: int, progress: Progress) -> None:
        self.handle = handle
        self.size = size
        self.progress = progress
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sent = 0

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self.handle.read(CHUNK)
            if not chunk:
                return
            self.md5.update(chunk)
            self.sent += len(chunk)
            self.progress.update(len(chunk))
            yield chunk


class _Commands(client.ServiceClient):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args.auth_url, "image")
        self.args = args

    def find(self, name_or_id: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
        if client.is_uuid(name_or_id):
            resp = self.request("GET", "/v2/images/%s" % name_or_id, ok=(200, 404))
            if resp.status_code == 200:
                return dict(resp.json())
        params = {"name": name_or_id, **(extra or {})}
        found = self.request("GET", "/v2/images", params=params).json()["images"]
        if not found:
            raise client.CLIError("no image %r: `stratus image list` shows the images you can "
                                  "see (an image shared with you needs `stratus image accept "
                                  "ID` first)" % name_or_id)
        if len(found) > 1:
            raise client.CLIError("more than one image is named %r (%s): use its ID" % (
                name_or_id, ", ".join(i["id"] for i in found)))
        return dict(found[0])

    def list_all(self, params: dict[str, str]) -> list[dict[str, Any]]:
        images: list[dict[str, Any]] = []
        path: str | None = "/v2/images"
        query: dict[str, str] | None = params
        while path:
            page = self.request("GET", path, params=query).json()
            images.extend(page["images"])
            path, query = page.get("next"), None
        return images

    def project_id(self, name_or_id: str) -> str:
        """A project's id from its name or id (names need the right to list projects)."""
        # The identity endpoint in the catalog is its v3 root (as stratus identity uses it).
        ident = {"service_type": "identity", "interface": self.ep["interface"]}
        try:
            resp = self.sess.get("/projects", params={"name": name_or_id},
                                 endpoint_filter=ident, raise_exc=False)
            if resp.status_code == 200 and len(resp.json()["projects"]) == 1:
                return str(resp.json()["projects"][0]["id"])
            resp = self.sess.get("/projects/%s" % name_or_id, endpoint_filter=ident,
                                 raise_exc=False)
            if resp.status_code == 200:
                return str(resp.json()["project"]["id"])
        except ks_exc.EndpointNotFound:
            pass
        if _HEX_ID.match(name_or_id) or client.is_uuid(name_or_id):
            return name_or_id
        raise client.CLIError("no project %r: give the project's ID (looking a project up by "
                              "name needs the right to list projects)" % name_or_id)


def _row(image: dict[str, Any]) -> dict[str, Any]:
    return {c: image.get(c) if image.get(c) is not None else "" for c in LIST_COLUMNS}


def _list(args: argparse.Namespace) -> None:
    params: dict[str, str] = {}
    for key in ("name", "status", "visibility", "owner", "member_status", "tag"):
        if getattr(args, key, None):
            params[key] = getattr(args, key)
    images = _Commands(args).list_all(params)
    client.print_rows(args.format, LIST_COLUMNS, [_row(i) for i in images])


def _show(args: argparse.Namespace) -> None:
    client.print_object(args.format, _Commands(args).find(args.image))


def _parse_properties(pairs: list[str]) -> dict[str, str]:
    props: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise client.CLIError("--property %r: write it as KEY=VALUE" % pair)
        props[key] = value
    return props


def _open_input(path: str) -> tuple[BinaryIO, int]:
    try:
        handle = open(path, "rb")
    except OSError as err:
        raise client.CLIError("cannot read %s: %s" % (path, err.strerror or err))
    size = os.fstat(handle.fileno()).st_size
    if not os.path.isfile(path):
        handle.close()
        raise client.CLIError("%s is not a regular file: give the image file with --file" % path)
    return handle, size


def _create(args: argparse.Namespace) -> None:
    props = _parse_properties(args.property or [])
    handle, size = _open_input(args.file)
    with handle:
        cmd = _Commands(args)
        body: dict[str, Any] = {"name": args.name, "disk_format": args.disk_format,
                                "container_format": args.container_format, **props}
        if args.visibility:
            body["visibility"] = args.visibility
        if args.min_disk is not None:
            body["min_disk"] = args.min_disk
        if args.min_ram is not None:
            body["min_ram"] = args.min_ram
        if args.tag:
            body["tags"] = args.tag
        if args.protected:
            body["protected"] = True
        image = cmd.request("POST", "/v2/images", ok=(201,), json=body).json()
        try:
            md5 = _upload(cmd, image, handle, size)
        except BaseException as err:
            _drop(cmd, image)
            if isinstance(err, client.CLIError):
                raise client.CLIError("upload of %s failed: %s; the new image %s was deleted, "
                                      "fix the cause and run the command again"
                                      % (args.file, err, image["id"]))
            raise
        image = cmd.request("GET", "/v2/images/%s" % image["id"]).json()
    if image.get("checksum") and image["checksum"] != md5:
        raise client.CLIError("image %s was stored with checksum %s but %s has %s: the data "
                              "changed on the way; delete it (`stratus image delete %s`) and "
                              "upload again" % (image["id"], image["checksum"], args.file, md5,
                                                image["id"]))
    client.print_object(args.format, image)


def _upload(cmd: _Commands, image: dict[str, Any], handle: BinaryIO, size: int) -> str:
    progress = Progress("Uploading %s" % (image.get("name") or image["id"]), size)
    body = _FileBody(handle, size, progress)
    data: Any = body if size else b""
    cmd.request("PUT", "/v2/images/%s/file" % image["id"], ok=(204, 200, 201), data=data,
                headers={"Content-Type": "application/octet-stream"}, log=False)
    progress.finish()
    if body.sent != size:
        raise client.CLIError("the file changed size while it was read (%d of %d bytes sent)"
                              % (body.sent, size))
    return body.md5.hexdigest()


def _drop(cmd: _Commands, image: dict[str, Any]) -> None:
    try:
        cmd.sess.delete("/v2/images/%s" % image["id"], endpoint_filter=cmd.ep, raise_exc=False)
    except Exception:  # best effort: the error being reported matters more
        pass


def _download(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    image = cmd.find(args.image)
    resp = cmd.request("GET", "/v2/images/%s/file" % image["id"], ok=(200, 204), stream=True,
                       log=False)
    if resp.status_code == 204:
        raise client.CLIError("image %s has no data (status %s): upload it first"
                              % (image["id"], image.get("status")))
    total = int(resp.headers.get("Content-Length") or image.get("size") or 0) or None
    progress = Progress("Downloading %s" % (image.get("name") or image["id"]), total)
    md5 = hashlib.md5(usedforsecurity=False)
    to_stdout = args.file == "-"
    tmp = None
    try:
        if to_stdout:
            out: BinaryIO = sys.stdout.buffer
        else:
            directory = os.path.dirname(os.path.abspath(args.file))
            tmp = os.path.join(directory, ".%s.%s.part" % (os.path.basename(args.file),
                                                           uuid.uuid4().hex[:8]))
            try:
                out = open(tmp, "wb")
            except OSError as err:
                raise client.CLIError("cannot write %s: %s" % (args.file, err.strerror or err))
        with resp:
            for chunk in resp.iter_content(CHUNK):
                out.write(chunk)
                md5.update(chunk)
                progress.update(len(chunk))
        if to_stdout:
            out.flush()
        else:
            out.close()
        progress.finish()
        expected = image.get("checksum") or resp.headers.get("Content-MD5")
        if expected and expected != md5.hexdigest():
            raise client.CLIError("downloaded data has md5 %s, the image's checksum is %s: "
                                  "the transfer was damaged, run the command again"
                                  % (md5.hexdigest(), expected))
        if tmp:
            os.replace(tmp, args.file)
            tmp = None
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    if not to_stdout:
        print("saved image %s (%s, %d bytes, md5 %s) to %s" % (
            image.get("name"), image["id"], progress.done, md5.hexdigest(), args.file))


def _share(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    image = cmd.find(args.image)
    project = cmd.project_id(args.project)
    if image.get("visibility") in ("public", "community"):
        raise client.CLIError("image %s is %s: every project sees it already (make it "
                              "--shared to choose the projects)" % (image["id"],
                                                                    image["visibility"]))
    if image.get("visibility") == "private":
        cmd.request("PATCH", "/v2/images/%s" % image["id"],
                    json=[{"op": "replace", "path": "/visibility", "value": "shared"}],
                    headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
        print("image %s is now shared (it was private)" % image["id"], file=sys.stderr)
    member = cmd.request("POST", "/v2/images/%s/members" % image["id"],
                         json={"member": project}).json()
    client.print_object(args.format, member)
    if args.format == "table":
        print("The other project accepts it with: stratus image accept %s" % image["id"])


def _accept(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    project = cmd.sess.get_project_id()
    image_id = args.image
    if not client.is_uuid(image_id):
        image_id = cmd.find(image_id, {"member_status": "pending", "visibility": "shared"})["id"]
    resp = cmd.request("PUT", "/v2/images/%s/members/%s" % (image_id, project),
                       ok=(200, 404), json={"status": "accepted"})
    if resp.status_code == 404:
        raise client.CLIError("image %s is not shared with your project %s: its owner shares "
                              "it with `stratus image share %s --project %s`"
                              % (image_id, project, image_id, project))
    client.print_object(args.format, resp.json())


def _delete(args: argparse.Namespace) -> None:
    cmd = _Commands(args)
    image = cmd.find(args.image)
    if image.get("protected"):
        raise client.CLIError("image %s is protected: unprotect it first (`openstack image set "
                              "--unprotected %s`)" % (image["id"], image["id"]))
    cmd.request("DELETE", "/v2/images/%s" % image["id"], ok=(204, 200))
    print("deleted image %s (%s)" % (image.get("name"), image["id"]))


def _build(parser: argparse.ArgumentParser) -> None:
    client.add_common_args(parser)
    fmt = [client.format_parent()]
    verbs = parser.add_subparsers(title="commands", metavar="<command>")

    lst = verbs.add_parser("list", parents=fmt, help="List the images you can see.")
    lst.add_argument("--name")
    lst.add_argument("--status")
    lst.add_argument("--visibility", choices=VISIBILITIES + ("all",))
    lst.add_argument("--owner", help="Project ID of the owner.")
    lst.add_argument("--member-status", choices=("pending", "accepted", "rejected", "all"))
    lst.add_argument("--tag")
    lst.set_defaults(func=_list)

    show = verbs.add_parser("show", parents=fmt, help="Show one image.")
    show.add_argument("image", metavar="NAME_OR_ID")
    show.set_defaults(func=_show)

    create = verbs.add_parser("create", parents=fmt,
                              help="Create an image and upload its data from a file.")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--file", required=True, help="The image data to upload.")
    create.add_argument("--disk-format", default="raw",
                        help="raw (default), qcow2, vmdk, vdi, iso, vhd, vhdx, ami, ari, aki, "
                             "ploop.")
    create.add_argument("--container-format", default="bare",
                        help="bare (default), ovf, ova, ami, ari, aki, docker, compressed.")
    vis = create.add_mutually_exclusive_group()
    for name in VISIBILITIES:
        vis.add_argument("--" + name, dest="visibility", action="store_const", const=name,
                         help="Visibility %s%s." % (name, " (only admins)" if name == "public"
                                                    else ""))
    create.add_argument("--property", action="append", metavar="KEY=VALUE",
                        help="A custom property (repeat for more).")
    create.add_argument("--tag", action="append", help="A tag (repeat for more).")
    create.add_argument("--min-disk", type=int, metavar="GB")
    create.add_argument("--min-ram", type=int, metavar="MB")
    create.add_argument("--protected", action="store_true", help="Refuse deletion.")
    create.set_defaults(func=_create, visibility=None)

    download = verbs.add_parser("download", parents=fmt, help="Save an image's data to a file.")
    download.add_argument("image", metavar="NAME_OR_ID")
    download.add_argument("--file", required=True, help="Where to save it ('-': stdout).")
    download.set_defaults(func=_download)

    share = verbs.add_parser("share", parents=fmt, help="Share an image with a project.")
    share.add_argument("image", metavar="NAME_OR_ID")
    share.add_argument("--project", required=True, help="Project name or ID.")
    share.set_defaults(func=_share)

    accept = verbs.add_parser("accept", parents=fmt,
                              help="Accept an image shared with your project.")
    accept.add_argument("image", metavar="IMAGE_ID")
    accept.set_defaults(func=_accept)

    delete = verbs.add_parser("delete", help="Delete an image and its data.")
    delete.add_argument("image", metavar="NAME_OR_ID")
    delete.set_defaults(func=_delete)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``image`` group of ``stratus``."""
    return client.run(prog, argv, _build)

