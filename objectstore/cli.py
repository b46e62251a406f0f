"""``stratus objectstore ...``: list, stat, upload, download, delete, post.

Talks Swift v1 to the proxy found in the catalog (service type ``object-store``) with
the user's keystone session; ``OS_STORAGE_URL`` (+ ``OS_AUTH_TOKEN``) skips keystone
and talks to that account URL directly (a standalone proxy, tempauth).

Files larger than ``--segment-size`` (or than one object may be) are uploaded as a
Static Large Object: segments in parallel to ``<container>_segments``, then the
manifest. Transfers stream in chunks, check the md5 the proxy returns as ETag, and
draw a progress bar when stderr is a terminal.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import os
import sys
import time
import uuid
from concurrent import futures
from typing import Any, Callable, TypeVar

from common.cli import client
from objectstore import cli_store
from objectstore import cli_transfer as xfer
from objectstore.cli_store import Store, error_message

T = TypeVar("T")
_HIDDEN_HEADERS = {"date", "connection", "x-trans-id", "x-openstack-request-id",
                   "accept-ranges", "transfer-encoding", "vary"}


def _parallel(func: Callable[..., T], jobs: list[tuple[Any, ...]], threads: int) -> list[T]:
    """``func(*job)`` for every job on ``threads`` threads, results in job order; the
    first failure cancels what has not started and is raised."""
    if threads <= 1 or len(jobs) <= 1:
        return [func(*job) for job in jobs]
    with futures.ThreadPoolExecutor(max_workers=threads) as pool:
        pending = [pool.submit(func, *job) for job in jobs]
        try:
            for done in futures.as_completed(pending):
                done.result()
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
        return [fut.result() for fut in pending]


# ---------------------------------------------------------------------------
# list, stat
# ---------------------------------------------------------------------------

def _list(args: argparse.Namespace) -> None:
    store = Store(args)
    entries = list(store.listing(args.container, args.prefix, args.delimiter))
    if args.container is None:
        columns: tuple[str, ...] = ("name", "count", "bytes", "last_modified")
    else:
        columns = ("name", "bytes", "content_type", "last_modified")
    rows = [{"name": e["subdir"]} if "subdir" in e else e for e in entries]
    client.print_rows(args.format, columns, rows)


def _stat(args: argparse.Namespace) -> None:
    if args.object and not args.container:
        raise client.CLIError("give the container of the object")
    store = Store(args)
    resp = store.request("HEAD", args.container, args.object, ok=(200, 204))
    info: dict[str, Any] = {"Account": store.account}
    if args.container:
        info["Container"] = args.container
    if args.object:
        info["Object"] = args.object
    for name, value in resp.headers.items():
        if name.lower() not in _HIDDEN_HEADERS and not (
                args.object is None and name.lower() in ("content-length", "content-type")):
            info[name] = value
    client.print_object(args.format, info)


# ---------------------------------------------------------------------------
# upload
# ---------------------------------------------------------------------------

def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _check_sent(body: xfer.RangeBody, resp: Any, what: str) -> str:
    """The md5 of what was sent; fails when the file changed or the ETag differs."""
    if body.sent != body.length:
        raise client.CLIError("%s changed size while it was read (%d of %d bytes sent): "
                              "upload it again when it is complete"
                              % (body.path, body.sent, body.length))
    md5 = body.md5.hexdigest()
    etag = (resp.headers.get("ETag") or "").strip('"')
    if etag and etag != md5:
        raise client.CLIError("%s was stored with ETag %s but the data sent has md5 %s: "
                              "upload it again" % (what, etag, md5))
    return md5


def _put_file(store: Store, container: str, item: xfer.UploadItem,
              progress: xfer.Progress) -> dict[str, Any]:
    body = xfer.RangeBody(item.path, 0, item.size, progress)
    resp = store.request("PUT", container, item.name, ok=(201,),
                         data=body if item.size else b"",
                         headers={"Content-Type": _content_type(item.name),
                                  "X-Object-Meta-Mtime": "%.6f" % item.mtime})
    if item.size:
        _check_sent(body, resp, "%s/%s" % (container, item.name))
    return {"object": item.name, "bytes": item.size, "segments": 0}


def _put_segment(store: Store, seg_container: str, name: str, item: xfer.UploadItem,
                 seg: xfer.Segment, progress: xfer.Progress) -> dict[str, Any]:
    body = xfer.RangeBody(item.path, seg.offset, seg.length, progress)
    resp = store.request("PUT", seg_container, name, ok=(201,), data=body,
                         headers={"Content-Type": "application/octet-stream"})
    md5 = _check_sent(body, resp, "%s/%s" % (seg_container, name))
    return {"path": "/%s/%s" % (seg_container, name), "etag": md5, "size_bytes": seg.length}


def _manifest_segments(store: Store, container: str, name: str) -> list[str]:
    """The segment paths (``/c/o``) of the SLO ``container/name``; [] when it is none."""
    resp = store.request("GET", container, name, ok=(200, 404),
                         params={"multipart-manifest": "get", "format": "raw"})
    if resp.status_code != 200 or \
            resp.headers.get("X-Static-Large-Object", "").lower() != "true":
        return []
    try:
        return [str(e.get("path") or e.get("name")) for e in resp.json()]
    except (ValueError, AttributeError):
        return []


def _put_large(store: Store, container: str, item: xfer.UploadItem, segment_size: int,
               progress: xfer.Progress, threads: int) -> dict[str, Any]:
    plan = xfer.plan_segments(item.size, segment_size)
    if len(plan) > xfer.MAX_SEGMENTS:
        at_least = -(-item.size // xfer.MAX_SEGMENTS)
        raise client.CLIError("%s would need %d segments of %s, more than the %d one "
                              "manifest holds: use --segment-size %dM or more"
                              % (item.path, len(plan), xfer.mib(segment_size),
                                 xfer.MAX_SEGMENTS, -(-at_least // 1048576)))
    seg_container = xfer.segments_container(container)
    store.ensure_container(seg_container)
    old = _manifest_segments(store, container, item.name)
    prefix = xfer.segment_prefix(item.name, item.mtime, item.size, segment_size)
    jobs = [(store, seg_container, xfer.segment_name(prefix, s.number), item, s, progress)
            for s in plan]
    manifest = _parallel(_put_segment, jobs, threads)
    store.request("PUT", container, item.name, ok=(201,), data=json.dumps(manifest),
                  params={"multipart-manifest": "put"},
                  headers={"Content-Type": _content_type(item.name),
                           "X-Object-Meta-Mtime": "%.6f" % item.mtime})
    new = {entry["path"] for entry in manifest}
    _delete_paths(store, [p for p in old if p not in new], threads)
    return {"object": item.name, "bytes": item.size, "segments": len(plan)}


def _delete_paths(store: Store, paths: list[str], threads: int) -> None:
    """Delete objects given as ``/c/o`` (a replaced manifest's segments); best effort."""
    def drop(path: str) -> None:
        cont, _, name = path.lstrip("/").partition("/")
        try:
            store.request("DELETE", cont, name, ok=(204, 404))
        except client.CLIError as err:
            print("warning: old segment %s was not deleted: %s" % (path, err), file=sys.stderr)
    _parallel(drop, [(p,) for p in paths], threads)


def _upload(args: argparse.Namespace) -> None:
    try:
        items = xfer.collect_uploads(args.paths, args.object_name)
    except (ValueError, OSError) as err:
        raise client.CLIError("%s: give existing files or directories" % err)
    if not items:
        raise client.CLIError("nothing to upload: the directories hold no files")
    store = Store(args)
    store.ensure_container(args.container)
    progress = xfer.Progress("Uploading %d file(s)" % len(items), sum(i.size for i in items))
    small = [i for i in items if xfer.segment_size_for(i.size, args.segment_size) is None]
    rows = _parallel(_put_file, [(store, args.container, i, progress) for i in small],
                     args.threads)
    for item in items:
        seg = xfer.segment_size_for(item.size, args.segment_size)
        if seg is not None:
            rows.append(_put_large(store, args.container, item, seg, progress, args.threads))
    progress.finish()
    client.print_rows(args.format, ("object", "bytes", "segments"), rows)


# ---------------------------------------------------------------------------
# download
# ---------------------------------------------------------------------------

def _set_mtime(path: str, headers: Any) -> None:
    try:
        mtime = float(headers.get("X-Object-Meta-Mtime") or "")
    except ValueError:
        return
    os.utime(path, (mtime, mtime))


def _expected_md5(headers: Any) -> str | None:
    """The md5 the body must have, or None (large objects' ETags are not of the body)."""
    if headers.get("X-Static-Large-Object") or headers.get("X-Object-Manifest"):
        return None
    if headers.get("Content-Range"):
        return None
    etag = (headers.get("ETag") or "").strip('"')
    return etag if len(etag) == 32 else None


def _get_object(store: Store, container: str, name: str, dest: str,
                progress: xfer.Progress) -> dict[str, Any]:
    """Save ``container/name`` to ``dest`` ("-": stdout) through a temporary file."""
    resp = store.request("GET", container, name, stream=True)
    if dest == "-":
        out = sys.stdout.buffer
        tmp = None
    else:
        directory = os.path.dirname(os.path.abspath(dest))
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, ".%s.%s.part" % (os.path.basename(dest),
                                                       uuid.uuid4().hex[:8]))
        out = open(tmp, "wb")
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    try:
        with resp:
            for chunk in resp.iter_content(xfer.CHUNK):
                out.write(chunk)
                md5.update(chunk)
                size += len(chunk)
                progress.update(len(chunk))
        out.flush()
        expected = _expected_md5(resp.headers)
        if expected and expected != md5.hexdigest():
            raise client.CLIError("%s/%s arrived with md5 %s, its ETag is %s: the transfer "
                                  "was damaged, run the command again"
                                  % (container, name, md5.hexdigest(), expected))
        if tmp is not None:
            out.close()
            os.replace(tmp, dest)
            tmp = None
            _set_mtime(dest, resp.headers)
    finally:
        if tmp is not None:
            out.close()
            os.unlink(tmp)
    return {"object": name, "bytes": size, "file": dest}


def _download(args: argparse.Namespace) -> None:
    store = Store(args)
    if args.object:
        dest = args.output or xfer.local_path(".", args.object)
        progress = xfer.Progress("Downloading %s" % args.object, None)
        rows = [_get_object(store, args.container, args.object, dest, progress)]
    else:
        if args.output == "-":
            raise client.CLIError("-o - writes one object to stdout: name the object")
        entries = list(store.listing(args.container, args.prefix))
        directory = args.output or "."
        jobs = []
        for entry in entries:
            if entry["name"].endswith("/") and not entry.get("bytes"):
                os.makedirs(xfer.local_path(directory, entry["name"]), exist_ok=True)
                continue
            try:
                dest = xfer.local_path(directory, entry["name"])
            except ValueError as err:
                raise client.CLIError(str(err))
            jobs.append((store, args.container, entry["name"], dest))
        progress = xfer.Progress("Downloading %d object(s)" % len(jobs),
                                 sum(int(e.get("bytes") or 0) for e in entries))
        rows = _parallel(_get_object, [job + (progress,) for job in jobs], args.threads)
    progress.finish()
    if args.output != "-":
        client.print_rows(args.format, ("object", "bytes", "file"), rows)


# ---------------------------------------------------------------------------
# delete, post
# ---------------------------------------------------------------------------

def _delete_object(store: Store, container: str, name: str) -> dict[str, Any]:
    """Delete one object; a Static Large Object with its segments."""
    head = store.request("HEAD", container, name, ok=(200,))
    if head.headers.get("X-Static-Large-Object", "").lower() != "true":
        store.request("DELETE", container, name, ok=(204,))
        return {"object": name, "segments": 0}
    resp = store.request("DELETE", container, name, ok=(200, 204),
                         params={"multipart-manifest": "delete"},
                         headers={"Accept": "application/json"})
    try:
        result = resp.json() if resp.content else {}
    except ValueError:
        result = {}
    status = str(result.get("Response Status", "200"))
    if result.get("Errors") or not status.startswith("2"):
        raise client.CLIError("deleting the large object %s/%s left errors (%s): %s; run the "
                              "command again" % (container, name, status,
                                                 result.get("Errors")))
    return {"object": name, "segments": max(int(result.get("Number Deleted", 1)) - 1, 0)}


def _delete(args: argparse.Namespace) -> None:
    store = Store(args)
    names = args.objects or [e["name"] for e in store.listing(args.container)]
    rows = _parallel(_delete_object, [(store, args.container, n) for n in names],
                     args.threads)
    if not args.objects:
        # A listing may lag behind the deletes for a moment (409 "not empty").
        for attempt in range(5):
            resp = store.request("DELETE", args.container, ok=(204, 409))
            if resp.status_code == 204:
                break
            if attempt == 4:
                raise client.CLIError(error_message(resp, "DELETE", args.container, None))
            time.sleep(0.5 * (attempt + 1))
        rows.append({"object": "(container %s)" % args.container, "segments": 0})
    client.print_rows(args.format, ("object", "segments"), rows)


def _meta_headers(kind: str, pairs: list[str]) -> dict[str, str]:
    headers = {}
    for pair in pairs:
        key, sep, value = pair.partition(":")
        if not sep or not key.strip():
            raise client.CLIError("--meta %r: write it as KEY:VALUE (KEY: to remove)" % pair)
        headers["X-%s-Meta-%s" % (kind, key.strip())] = value.strip()
    return headers


def _post(args: argparse.Namespace) -> None:
    if args.object and not args.container:
        raise client.CLIError("give the container of the object")
    kind = "Object" if args.object else "Container" if args.container else "Account"
    headers = _meta_headers(kind, args.meta or [])
    if (args.read_acl is not None or args.write_acl is not None) and kind != "Container":
        raise client.CLIError("--read-acl and --write-acl are set on containers")
    if args.read_acl is not None:
        headers["X-Container-Read"] = args.read_acl
    if args.write_acl is not None:
        headers["X-Container-Write"] = args.write_acl
    store = Store(args)
    if kind == "Object":
        # A POST replaces all of an object's metadata: keep what is not changed.
        head = store.request("HEAD", args.container, args.object)
        kept = {k: v for k, v in head.headers.items() if k.lower().startswith("x-object-meta-")
                and k.lower() not in {h.lower() for h in headers}}
        headers = {k: v for k, v in {**kept, **headers}.items() if v}
        store.request("POST", args.container, args.object, ok=(202, 204), headers=headers)
    elif kind == "Container":
        resp = store.request("POST", args.container, ok=(202, 204, 404), headers=headers)
        if resp.status_code == 404:
            store.request("PUT", args.container, ok=(201, 202), headers=headers)
    else:
        store.request("POST", ok=(202, 204), headers=headers)
    print("updated %s %s" % (kind.lower(), "/".join(
        p for p in (store.account, args.container, args.object) if p)))


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def _size_arg(text: str) -> int:
    try:
        return xfer.parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err))


def _build(parser: argparse.ArgumentParser) -> None:
    client.add_common_args(parser)
    parser.add_argument("--os-storage-url", dest="storage_url",
                        default=os.environ.get("OS_STORAGE_URL"),
                        help="Account URL to use instead of the catalog's (with the token in "
                             "$OS_AUTH_TOKEN; default: $OS_STORAGE_URL).")
    fmt = [client.format_parent()]
    threads = argparse.ArgumentParser(add_help=False)
    threads.add_argument("--threads", type=int, default=4, metavar="N",
                         help="Transfers at once (default 4).")
    verbs = parser.add_subparsers(title="commands", metavar="<command>")

    lst = verbs.add_parser("list", parents=fmt,
                           help="List the containers, or the objects of a container.")
    lst.add_argument("container", nargs="?")
    lst.add_argument("--prefix", help="Only names that start with this.")
    lst.add_argument("--delimiter", help="Roll names up to this character (e.g. /).")
    lst.set_defaults(func=_list)

    stat = verbs.add_parser("stat", parents=fmt,
                            help="Show the account, a container or an object.")
    stat.add_argument("container", nargs="?")
    stat.add_argument("object", nargs="?")
    stat.set_defaults(func=_stat)

    up = verbs.add_parser("upload", parents=fmt + [threads],
                          help="Upload files and directories (recursively) to a container.")
    up.add_argument("container")
    up.add_argument("paths", nargs="+", metavar="PATH")
    up.add_argument("--segment-size", type=_size_arg, metavar="SIZE",
                    help="Store files larger than SIZE (bytes, or e.g. 100M, 1G) as static "
                         "large objects in segments of SIZE. Default: only files larger "
                         "than 5 GiB, in 1 GiB segments.")
    up.add_argument("--object-name", help="Name of the object (one file only).")
    up.set_defaults(func=_upload)

    down = verbs.add_parser("download", parents=fmt + [threads],
                            help="Download an object, or a whole container.")
    down.add_argument("container")
    down.add_argument("object", nargs="?")
    down.add_argument("-o", "--output", metavar="PATH",
                      help="File for one object ('-': stdout), directory for a container "
                           "(default: the object names under the current directory).")
    down.add_argument("--prefix", help="Only objects whose names start with this.")
    down.set_defaults(func=_download)

    delete = verbs.add_parser("delete", parents=fmt + [threads],
                              help="Delete objects, or a container with all its objects.")
    delete.add_argument("container")
    delete.add_argument("objects", nargs="*", metavar="OBJECT")
    delete.set_defaults(func=_delete)

    post = verbs.add_parser("post", help="Set metadata or ACLs (creates a missing container).")
    post.add_argument("container", nargs="?")
    post.add_argument("object", nargs="?")
    post.add_argument("-m", "--meta", action="append", metavar="KEY:VALUE",
                      help="Metadata item (repeat for more; KEY: removes it).")
    post.add_argument("--read-acl", help="Container read ACL, e.g. '.r:*' (public).")
    post.add_argument("--write-acl", help="Container write ACL.")
    post.set_defaults(func=_post)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``objectstore`` group of ``stratus``."""
    try:
        return client.run(prog, argv, _build)
    finally:
        cli_store.close_all()
