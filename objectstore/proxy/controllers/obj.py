"""Requests to ``/v1/<account>/<container>/<object>``.

Reads stream from the first object server with an answer (falling over on errors);
uploads stream to all the object's nodes at once (handoffs standing in for nodes that
cannot be reached) and succeed when a majority stored the object. Each object server
is told which container replica to update (``X-Container-Host/Partition/Device``).
"""
from __future__ import annotations

import collections
import concurrent.futures
import email.utils
import itertools
import math
import mimetypes
import socket
import time
from typing import Any, Callable, Iterator

import webob

from objectstore.common import backend, body, constraints
from objectstore.common.utils import Timestamp
from objectstore.proxy.controllers.base import (
    Controller, best_status, http_response, quorum_size, spread, status_line)

class ClientError(Exception):
    """The client's upload failed (status 499 disconnect, 408 timeout, 413 too big)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def last_modified(timestamp: str) -> str:
    """An HTTP date (rounded up, as listings and HEAD agree) of an X-Timestamp."""
    return email.utils.formatdate(math.ceil(float(Timestamp(timestamp))), usegmt=True)


class ObjectController(Controller):
    server_type = "Object"
    allowed_methods = ("GET", "HEAD", "PUT", "POST", "DELETE")

    @property
    def path(self) -> str:
        return "/%s/%s/%s" % (self.account, self.container, self.obj)

    def _container_allows(self, acl_key: str) -> tuple[dict[str, Any], Any]:
        """The container info and the authorization answer for the given ACL."""
        assert self.container is not None
        cinfo = self.container_info(self.account, self.container)
        return cinfo, self.authorize(cinfo[acl_key])

    # -- reads ------------------------------------------------------------------------

    def GET(self) -> Any:
        return self._get_or_head()

    def HEAD(self) -> Any:
        return self._get_or_head()

    def _get_or_head(self) -> Any:
        if "swift.authorize" in self.req.environ:
            _cinfo, denied = self._container_allows("read_acl")
            if denied is not None:
                return denied
        ring = self.app.object_ring
        part = ring.get_part(self.account, self.container, self.obj)
        resp = self.read_one(ring, part, self.req.method, self.path, self.backend_headers())
        if isinstance(resp, int) or resp.status == 404 or resp.status >= 500:
            status = resp if isinstance(resp, int) else resp.status
            headers = {} if isinstance(resp, int) else self._404_headers(resp)
            if not isinstance(resp, int):
                resp.close()
            return http_response(status, headers=headers)
        headers = self.client_headers(resp)
        length = resp.getheader("Content-Length")
        if length is not None:
            headers["Content-Length"] = length
        headers["Accept-Ranges"] = "bytes"
        headers.setdefault("Content-Type", "application/octet-stream")
        if self.req.method == "HEAD" or resp.status in (204, 304):
            resp.close()
            body: Any = []
        else:
            body = resp.iter_body(self.app.object_chunk_size)
        return webob.Response(status=status_line(resp.status), headerlist=list(headers.items()),
                              app_iter=body)

    @staticmethod
    def _404_headers(resp: backend.Response) -> dict[str, str]:
        stamp = resp.getheader("X-Backend-Timestamp")
        return {"X-Backend-Timestamp": stamp} if stamp else {}

    # -- writes -----------------------------------------------------------------------

    def _check_common(self, headers: dict[str, str]) -> Any:
        """Metadata limits and X-Delete-At/-After; an error answer or None. Turns
        X-Delete-After into X-Delete-At in ``headers``."""
        error = constraints.check_metadata(self.app.conf, self.req.headers, "object")
        if error:
            return http_response(400, error)
        now = time.time()
        after = headers.pop("X-Delete-After", None)
        if after is not None:
            try:
                seconds = int(after)
            except ValueError:
                return http_response(400, "Non-integer X-Delete-After")
            if seconds < 0:
                return http_response(400, "X-Delete-After in past")
            headers["X-Delete-At"] = str(int(now + seconds))
        delete_at = headers.get("X-Delete-At")
        if delete_at is not None:
            try:
                value = int(delete_at)
            except ValueError:
                return http_response(400, "Non-integer X-Delete-At")
            if value < now:
                return http_response(400, "X-Delete-At in past")
        return None

    def _container_update_headers(self, base: dict[str, str]) -> Callable[[int], dict[str, str]]:
        """Per-node headers naming the container replica(s) each object server updates."""
        cring = self.app.container_ring
        cpart, cnodes = cring.get_nodes(self.account, self.container)
        replicas = self.app.object_ring.replica_count

        def headers_for(index: int) -> dict[str, str]:
            share = spread(cnodes, replicas, index)
            return dict(base, **{"X-Container-Host": share["Host"],
                                 "X-Container-Device": share["Device"],
                                 "X-Container-Partition": str(cpart)})
        return headers_for

    def _write_prelude(self) -> tuple[dict[str, str] | None, Any]:
        """Checks shared by PUT, POST and DELETE: (backend headers, None) or
        (None, error answer)."""
        headers = self.backend_headers()
        headers["X-Timestamp"] = Timestamp.now().internal
        if self.req.method != "DELETE":
            error = self._check_common(headers)
            if error is not None:
                return None, error
        cinfo, denied = self._container_allows("write_acl")
        if denied is not None:
            return None, denied
        if cinfo["status"] // 100 != 2:
            return None, http_response(404 if cinfo["status"] == 404 else 503)
        return headers, None

    def PUT(self) -> Any:
        req = self.req
        chunked = "chunked" in req.headers.get("Transfer-Encoding", "").lower()
        length = req.content_length
        if length is None and not chunked:
            return http_response(411)
        if length is not None and length > self.app.limits["max_file_size"]:
            return http_response(413)
        match = req.headers.get("If-None-Match")
        if match is not None and match.strip() != "*":
            return http_response(400, "If-None-Match only supports *")
        headers, error = self._write_prelude()
        if headers is None:
            return error
        self._set_content_type(headers)
        if match is not None and self._exists():
            return http_response(412)
        if length is not None:
            headers["Content-Length"] = str(length)
        else:
            headers["Transfer-Encoding"] = "chunked"
        return self._upload(self._container_update_headers(headers), length)

    def _set_content_type(self, headers: dict[str, str]) -> None:
        detect = self.req.headers.get("X-Detect-Content-Type", "").lower() in (
            "true", "1", "yes", "on")
        headers.pop("X-Detect-Content-Type", None)
        if detect or not headers.get("Content-Type"):
            guessed = mimetypes.guess_type(self.obj or "")[0]
            headers["Content-Type"] = guessed or "application/octet-stream"

    def _exists(self) -> bool:
        ring = self.app.object_ring
        part = ring.get_part(self.account, self.container, self.obj)
        resp = self.read_one(ring, part, "HEAD", self.path, self.backend_headers(False))
        if isinstance(resp, int):
            return False
        resp.close()
        return resp.status // 100 == 2

    def POST(self) -> Any:
        headers, error = self._write_prelude()
        if headers is None:
            return error
        return self._simple_write("POST", self._container_update_headers(headers))

    def DELETE(self) -> Any:
        headers, error = self._write_prelude()
        if headers is None:
            return error
        return self._simple_write("DELETE", self._container_update_headers(headers))

    def _simple_write(self, method: str, headers_for: Callable[[int], dict[str, str]]) -> Any:
        ring = self.app.object_ring
        part = ring.get_part(self.account, self.container, self.obj)
        status, _answers = self.write_all(ring, part, method, self.path, headers_for)
        if status == 409:
            status = 202 if method == "POST" else 204
        return http_response(status)

    # -- the upload -------------------------------------------------------------------

    def _upload(self, headers_for: Callable[[int], dict[str, str]], length: int | None) -> Any:
        ring = self.app.object_ring
        part = ring.get_part(self.account, self.container, self.obj)
        quorum = quorum_size(ring.replica_count)
        conns = self._connect_all(ring.replica_count, part, headers_for)
        if len(conns) < quorum:
            _close_all(conns)
            return http_response(503)
        try:
            sent = self._send_body(conns, length, quorum)
        except ClientError as err:
            _close_all(conns)
            return http_response(err.status)
        if sent < quorum:
            _close_all(conns)
            return http_response(503)
        # Not after a chunked upload: cheroot leaves the body's last CRLF unread, and
        # one of its worker threads would wait on the kept connection for the next
        # request instead of serving others.
        return self._put_answer(self._collect(conns, reuse=length is not None),
                                ring.replica_count, headers_for(0)["X-Timestamp"])

    def _connect_all(self, replicas: int, part: int,
                     headers_for: Callable[[int], dict[str, str]]) -> list[list[Any]]:
        """Open the PUT to ``replicas`` nodes; handoffs replace failures. Each entry is
        ``[node, connection]`` (connection None once it failed).

        Kept connections (backend.POOL) are used right here; only new ones, which may
        wait for ``conn_timeout``, are opened in parallel by the thread pool (handing
        work to a thread and back costs more than sending the headers)."""
        nodes = self.iter_nodes(self.app.object_ring, part)
        conns: list[list[Any]] = []
        slot = 0
        wanted = replicas
        while wanted > 0:
            batch = list(itertools.islice(nodes, wanted))
            if not batch:
                break
            opened: list[tuple[dict[str, Any], Any]] = []
            for node in batch:
                headers = headers_for(slot)
                slot += 1
                conn = backend.connect_kept(node["ip"], node["port"], node["device"], part,
                                            "PUT", self.path, headers,
                                            node_timeout=self.app.node_timeout)
                opened.append((node, conn if conn is not None else self.app.pool.submit(
                    self._connect, node, part, headers)))
            wanted = 0
            for node, conn in opened:
                if isinstance(conn, concurrent.futures.Future):
                    conn = conn.result()
                if conn is None:
                    wanted += 1
                else:
                    conns.append([node, conn])
        return conns

    def _connect(self, node: dict[str, Any], part: int, headers: dict[str, str]) -> Any:
        try:
            return backend.connect(node["ip"], node["port"], node["device"], part, "PUT",
                                   self.path, headers, conn_timeout=self.app.conn_timeout,
                                   node_timeout=self.app.node_timeout)
        except backend.NODE_ERRORS:
            self.app.limiter.error(node)
            return None

    def _send_body(self, conns: list[list[Any]], length: int | None, quorum: int) -> int:
        """Stream the client's body to every live connection; how many got it all."""
        chunked = length is None
        for chunk in self._client_chunks(length):
            data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
            self._send_to_all(conns, data)
            if sum(1 for _, c in conns if c is not None) < quorum:
                return 0
        if chunked:
            self._send_to_all(conns, b"0\r\n\r\n")
        return sum(1 for _, c in conns if c is not None)

    def _send_to_all(self, conns: list[list[Any]], data: bytes | memoryview) -> None:
        for entry in conns:
            node, conn = entry
            if conn is None:
                continue
            try:
                conn.send(data)
            except backend.NODE_ERRORS:
                self.app.limiter.error(node)
                conn.close()
                entry[1] = None

    def _client_chunks(self, length: int | None) -> Iterator[memoryview | bytes]:
        """The upload in chunks, each valid until the next is asked for (see
        :mod:`objectstore.common.body`); raises ClientError on disconnect/timeout/too
        big."""
        chunks = body.iter_body(self.req.environ, length, self.app.client_chunk_size)
        limit = self.app.limits["max_file_size"]
        total = 0
        while True:
            try:
                chunk = next(chunks, None)
            except socket.timeout:
                raise ClientError(408) from None
            except (OSError, ValueError, body.BodyShort):
                raise ClientError(499) from None
            if chunk is None:
                return
            total += len(chunk)
            if total > limit:
                raise ClientError(413)
            yield chunk

    def _collect(self, conns: list[list[Any]], reuse: bool = True) -> list[backend.Response]:
        """The answers of the object servers.

        Read one after the other, but within one ``node_timeout`` from now for all:
        every request is complete already, so this waits as long as reading them in
        parallel would (a node that hangs delays the others' reading, not their
        answers), without handing each read to a thread."""
        deadline = time.monotonic() + self.app.node_timeout
        answers = []
        for node, conn in conns:
            if conn is None:
                continue
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(max(deadline - time.monotonic(), 0.01))
                resp = backend.get_response(conn)
                resp.read()
                resp.close(reuse)
                answers.append(resp)
            except backend.NODE_ERRORS:
                self.app.limiter.error(node)
        return answers

    def _put_answer(self, answers: list[backend.Response], replicas: int,
                    timestamp: str) -> Any:
        status = best_status([r.status for r in answers], replicas)
        if status == 409:
            status = 202
        if status // 100 != 2:
            return http_response(status)
        etags = collections.Counter(r.getheader("ETag") for r in answers
                                    if r.status // 100 == 2 and r.getheader("ETag"))
        headers = {"Last-Modified": last_modified(timestamp)}
        if etags:
            headers["ETag"] = str(etags.most_common(1)[0][0]).strip('"')
        if status == 202:
            return http_response(202, headers=headers)
        return http_response(201, "", headers=headers)


def _close_all(conns: list[list[Any]]) -> None:
    for entry in conns:
        if entry[1] is not None:
            entry[1].close()
            entry[1] = None
