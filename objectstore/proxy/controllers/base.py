"""What every proxy controller shares: Swift's error answers, error limiting of storage
nodes, node iteration with handoffs, reads that fall over, quorum writes, header
handling and the account/container info lookups."""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import webob
from webob.util import status_reasons

from objectstore.common import backend
from objectstore.proxy import info

if TYPE_CHECKING:
    from objectstore.common.ring.ring import Ring
    from objectstore.proxy.server import Application

LOG = logging.getLogger(__name__)

#: Titles and explanations of Swift's generated error bodies.
REASONS: dict[int, tuple[str, str]] = {
    202: ("Accepted", "The request is accepted for processing."),
    400: ("Bad Request", "The server could not comply with the request since it is either "
          "malformed or otherwise incorrect."),
    401: ("Unauthorized", "This server could not verify that you are authorized to access "
          "the document you requested."),
    403: ("Forbidden", "Access was denied to this resource."),
    404: ("Not Found", "The resource could not be found."),
    405: ("Method Not Allowed", "The method is not allowed for this resource."),
    408: ("Request Timeout", "The server has waited too long for the request to be sent by "
          "the client."),
    409: ("Conflict", "There was a conflict when trying to complete your request."),
    411: ("Length Required", "Length Required"),
    412: ("Precondition Failed", "A precondition for this request was not satisfied."),
    413: ("Request Entity Too Large", "The body of your request was too large for this "
          "server."),
    416: ("Requested Range Not Satisfiable", "The Range requested is not available."),
    422: ("Unprocessable Entity", "Unable to process the contained instructions"),
    499: ("Client Disconnect", "The client was disconnected during request."),
    500: ("Internal Error", "The server has either erred or is incapable of performing the "
          "requested operation."),
    503: ("Service Unavailable", "The server is currently unavailable. Please try again at "
          "a later time."),
    507: ("Insufficient Storage", "There was not enough space to save the resource."),
}
STATUS_TITLES = {499: "Client Disconnect", 507: "Insufficient Storage"}

#: Request headers never passed on to storage nodes (hop-by-hop, credentials, and
#: what only the proxy may set).
_NOT_FORWARDED = frozenset(h.lower() for h in (
    "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Expect", "TE",
    "Trailer", "Upgrade", "Proxy-Authorization", "Authorization", "Cookie", "X-Auth-Token",
    "X-Storage-Token", "X-Service-Token", "X-Timestamp", "X-Put-Timestamp",
    "X-Delete-Timestamp", "X-Container-Host", "X-Container-Partition", "X-Container-Device",
    "X-Account-Host", "X-Account-Partition", "X-Account-Device", "X-Size", "X-Etag",
    "X-Content-Type", "X-Object-Count", "X-Bytes-Used", "X-If-Delete-At", "X-Trans-Id",
))
#: Backend answer headers never shown to clients.
_NOT_RETURNED = frozenset(h.lower() for h in (
    "Connection", "Keep-Alive", "Transfer-Encoding", "Server", "Date", "Content-Length",
))


def status_line(status: int) -> str:
    """``404 Not Found`` (with Swift's own reasons for 499 and 507)."""
    reason = STATUS_TITLES.get(status) or status_reasons.get(status) or "Unknown"
    return "%d %s" % (status, reason)


def http_response(status: int, body: str | bytes | None = None,
                  headers: Mapping[str, str] | None = None,
                  content_type: str = "text/html; charset=UTF-8") -> webob.Response:
    """An answer as Swift gives it: the standard HTML body for errors and 202 when no
    ``body`` is given, and always Content-Type and Content-Length (also on 204)."""
    if body is None:
        title, explanation = REASONS.get(status, ("", ""))
        body = "<html><h1>%s</h1><p>%s</p></html>" % (title, explanation) if explanation else ""
    data = body.encode("utf-8") if isinstance(body, str) else body
    resp = webob.Response(status=status_line(status), body=data)
    resp.headers["Content-Type"] = content_type
    resp.headers["Content-Length"] = str(len(data))
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


class ErrorLimiter:
    """Counts the failures of storage nodes; a node with more than ``limit`` errors
    within ``interval`` seconds is skipped until the interval has passed."""

    def __init__(self, limit: int, interval: float) -> None:
        self.limit = limit
        self.interval = interval
        self._lock = threading.Lock()
        self._errors: dict[str, tuple[int, float]] = {}

    @staticmethod
    def key(node: Mapping[str, Any]) -> str:
        return "%s:%s/%s" % (node["ip"], node["port"], node["device"])

    def is_limited(self, node: Mapping[str, Any]) -> bool:
        entry = self._errors.get(self.key(node))
        if entry is None:
            return False
        count, last = entry
        if time.monotonic() - last > self.interval:
            with self._lock:
                self._errors.pop(self.key(node), None)
            return False
        return count > self.limit

    def error(self, node: Mapping[str, Any]) -> None:
        with self._lock:
            count, _last = self._errors.get(self.key(node), (0, 0.0))
            self._errors[self.key(node)] = (count + 1, time.monotonic())

    def limit_now(self, node: Mapping[str, Any]) -> None:
        """Skip the node at once (it answered 507: its device is gone)."""
        with self._lock:
            self._errors[self.key(node)] = (self.limit + 1, time.monotonic())


def quorum_size(replicas: int) -> int:
    return replicas // 2 + 1


def best_status(statuses: list[int], replicas: int) -> int:
    """The answer of a write to all replicas: the most common status of the class
    (2xx, 3xx, 4xx, 5xx) a majority agrees on, else 503. Missing answers count as 503."""
    statuses = statuses + [503] * max(0, replicas - len(statuses))
    quorum = quorum_size(max(replicas, 1))
    for klass in (2, 3, 4, 5):
        hits = [s for s in statuses if s // 100 == klass]
        if len(hits) >= quorum:
            counts = collections.Counter(hits)
            return sorted(counts, key=lambda s: (-counts[s], s))[0]
    return 503


def remove_meta_headers(headers: Mapping[str, str], target: str) -> dict[str, str]:
    """``X-Remove-<Target>-Meta-Foo`` (and ``X-Remove-Container-Read`` …) as the empty
    value that deletes the item on the server."""
    out: dict[str, str] = {}
    prefix = "x-remove-%s-" % target
    for name, _value in headers.items():
        if name.lower().startswith(prefix):
            out["X-%s-%s" % (target.capitalize(), name[len(prefix):])] = ""
    for name in ("X-Remove-Versions-Location", "X-Remove-History-Location"):
        if target == "container" and name in headers:
            out[name[len("X-Remove-"):]] = ""
    return out


class Controller:
    """Handles one request to an account, container or object."""

    server_type = "Base"
    allowed_methods: tuple[str, ...] = ("GET", "HEAD")

    def __init__(self, app: Application, req: webob.Request, account: str,
                 container: str | None = None, obj: str | None = None) -> None:
        self.app = app
        self.req = req
        self.account = account
        self.container = container
        self.obj = obj
        self.trans_id = str(req.environ.get("swift.trans_id", ""))

    # -- identity and authorization -------------------------------------------------

    def authorize(self, acl: str | None) -> Any:
        """Run ``swift.authorize`` with ``req.acl``; its answer (a 401/403 app) or None."""
        authorize = self.req.environ.get("swift.authorize")
        if authorize is None:
            return None
        self.req.acl = acl
        return authorize(self.req)

    @property
    def is_owner(self) -> bool:
        """Whether the caller owns the account (no auth in the pipeline counts as owner)."""
        env = self.req.environ
        return "swift.authorize" not in env or bool(env.get("swift_owner"))

    # -- headers ----------------------------------------------------------------------

    def backend_headers(self, forward: bool = True, **extra: str) -> dict[str, str]:
        """Headers of a request to a storage node: the client's (unless not ``forward``)
        minus what only the proxy sets, plus X-Trans-Id and ``extra``."""
        headers: dict[str, str] = {}
        if forward:
            for name, value in self.req.headers.items():
                if name.lower() not in _NOT_FORWARDED:
                    headers[name] = value
        headers["X-Trans-Id"] = self.trans_id
        headers.update(extra)
        return headers

    @staticmethod
    def client_headers(resp: backend.Response, owner: bool = True) -> dict[str, str]:
        """The headers of a backend answer that a client may see."""
        out: dict[str, str] = {}
        for name, value in resp.headers.items():
            lname = name.lower()
            if lname in _NOT_RETURNED or lname.startswith("x-backend-"):
                continue
            if not owner and lname in ("x-container-read", "x-container-write",
                                       "x-container-sync-key", "x-container-sync-to"):
                continue
            out[name] = value
        return out

    # -- storage nodes ----------------------------------------------------------------

    def iter_nodes(self, ring: Ring, part: int) -> Iterator[dict[str, Any]]:
        """The primaries of ``part`` then its handoffs, skipping error-limited nodes; at
        most twice the replica count in all."""
        limit = 2 * ring.replica_count
        for node in _chain(ring.get_part_nodes(part), ring.get_more_nodes(part)):
            if limit <= 0:
                return
            limit -= 1
            if not self.app.limiter.is_limited(node):
                yield node

    def call_node(self, node: dict[str, Any], part: int, method: str, path: str,
                  headers: Mapping[str, str], body: bytes | None = None,
                  query: Mapping[str, str] | None = None, timeout: float | None = None,
                  ) -> backend.Response | None:
        """One request to a storage node; None (and an error counted) when it failed."""
        try:
            resp = backend.node_request(
                node, part, method, path, headers=headers, body=body, query=query,
                conn_timeout=self.app.conn_timeout,
                node_timeout=timeout or self.app.node_timeout)
        except backend.NODE_ERRORS as err:
            self.app.limiter.error(node)
            LOG.warning("%s %s to %s failed: %s (txn %s)", method, path,
                        ErrorLimiter.key(node), err, self.trans_id)
            return None
        if resp.status == 507:
            self.app.limiter.limit_now(node)
        elif resp.status >= 500:
            self.app.limiter.error(node)
        return resp

    def read_one(self, ring: Ring, part: int, method: str, path: str,
                 headers: Mapping[str, str], query: Mapping[str, str] | None = None,
                 ) -> backend.Response | int:
        """GET/HEAD from the first node that answers (not 404, not 5xx), falling over.

        Stops after as many real answers as there are replicas, so a missing resource
        costs one request per replica. Returns the answer (its body unread), or a
        status (404/503) when no node had a usable one.
        """
        answered = 0
        not_found: backend.Response | None = None
        for node in self.iter_nodes(ring, part):
            resp = self.call_node(node, part, method, path, headers, query=query,
                                  timeout=self.app.recoverable_node_timeout)
            if resp is None or resp.status >= 500:
                if resp is not None:
                    resp.close()
                continue
            answered += 1
            if resp.status != 404:
                if not_found is not None:
                    not_found.close()
                return resp
            if not_found is not None:
                not_found.close()
            resp.read()
            not_found = resp
            if answered >= ring.replica_count:
                break
        return not_found if not_found is not None else 503

    def write_all(self, ring: Ring, part: int, method: str, path: str,
                  headers_for: Callable[[int], Mapping[str, str]],
                  body: bytes | None = None) -> tuple[int, list[backend.Response]]:
        """The same write to every replica in parallel (handoffs replacing nodes that
        cannot be reached or answer 507); the quorum status and the answers (read)."""
        replicas = ring.replica_count
        nodes = self.iter_nodes(ring, part)
        results: list[backend.Response] = []
        pending = list(_take(nodes, replicas))
        slot = 0
        while pending:
            futures = []
            for node in pending:
                futures.append(self.app.pool.submit(
                    self.call_node, node, part, method, path, headers_for(slot), body))
                slot += 1
            retries = 0
            for future in futures:
                resp = future.result()
                if resp is None or resp.status == 507:
                    retries += 1
                    if resp is not None:
                        resp.close()
                    continue
                resp.read()
                resp.close()
                results.append(resp)
            pending = list(_take(nodes, retries))
        return best_status([r.status for r in results], replicas), results

    # -- account and container info --------------------------------------------------

    def account_info(self, account: str) -> dict[str, Any]:
        """What the account's servers say (HEAD, cached for this request)."""
        cache = self._infocache()
        key = info.account_cache_key(account)
        if key not in cache:
            ring = self.app.account_ring
            part = ring.get_part(account)
            resp = self.read_one(ring, part, "HEAD", "/" + account, self.backend_headers(False))
            status = resp if isinstance(resp, int) else resp.status
            headers = {} if isinstance(resp, int) else dict(resp.headers.items())
            if not isinstance(resp, int):
                resp.close()
            cache[key] = info.account_info_from(status, headers)
        return dict(cache[key])

    def container_info(self, account: str, container: str) -> dict[str, Any]:
        """What the container's servers say (HEAD; cached for this request, and for
        ``recheck_container_existence`` seconds across requests when it exists)."""
        cache = self._infocache()
        key = info.container_cache_key(account, container)
        if key in cache:
            return dict(cache[key])
        found = self.app.shared_info.get(key)
        if found is None:
            ring = self.app.container_ring
            part = ring.get_part(account, container)
            resp = self.read_one(ring, part, "HEAD", "/%s/%s" % (account, container),
                                 self.backend_headers(False))
            status = resp if isinstance(resp, int) else resp.status
            headers = {} if isinstance(resp, int) else dict(resp.headers.items())
            if not isinstance(resp, int):
                resp.close()
            found = info.container_info_from(status, headers)
            if status // 100 == 2:
                self.app.shared_info.put(key, found)
        cache[key] = found
        return dict(found)

    def forget_info(self, account: str, container: str | None = None) -> None:
        """Drop cached info of what this request changes."""
        info.drop_info(self.req.environ, account, container)
        if container:
            self.app.shared_info.drop(info.container_cache_key(account, container))
            self.app.info_answers.drop("/%s/%s" % (account, container))
        else:
            self.app.info_answers.drop("/" + account)

    # -- the filters' info subrequests (info.INFO_REQUEST) -------------------------------

    def _info_request(self) -> str | None:
        if self.req.method != "HEAD":
            return None
        return self.req.environ.get(info.INFO_REQUEST)

    def kept_info_answer(self, path: str) -> webob.Response | None:
        """A recent answer to the same info subrequest, when it may be used."""
        if self._info_request() != "cached":
            return None
        kept = self.app.info_answers.get(path)
        if kept is None:
            return None
        return webob.Response(status=status_line(kept["status"]),
                              headerlist=list(kept["headers"]), app_iter=[])

    def keep_info_answer(self, path: str, resp: webob.Response, ttl: float | None = None,
                         ) -> webob.Response:
        """``resp``, remembered for :meth:`kept_info_answer` when it answers an info
        subrequest successfully."""
        if self._info_request() is not None and resp.status_int // 100 == 2:
            self.app.info_answers.put(path, {"status": resp.status_int,
                                             "headers": list(resp.headerlist)}, ttl)
        return resp

    def _infocache(self) -> dict[str, Any]:
        cache = self.req.environ.get(info.INFOCACHE)
        if not isinstance(cache, dict):
            cache = self.req.environ[info.INFOCACHE] = {}
        return cache


def _chain(*iterables: Any) -> Iterator[dict[str, Any]]:
    for iterable in iterables:
        yield from iterable


def _take(iterator: Iterator[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    for _ in range(count):
        try:
            yield next(iterator)
        except StopIteration:
            return


def spread(nodes: list[dict[str, Any]], slots: int, index: int) -> dict[str, str]:
    """The ``X-<Kind>-Host/Partition/Device`` share of slot ``index`` when ``slots``
    writers each update some of ``nodes`` (every node gets exactly one writer)."""
    mine = [n for i, n in enumerate(nodes) if i % max(slots, 1) == index % max(slots, 1)]
    return {
        "Host": ",".join("%s:%s" % (n["ip"], n["port"]) for n in mine),
        "Device": ",".join(str(n["device"]) for n in mine),
    }
