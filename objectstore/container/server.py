"""The container server (port 6201): container databases and their object rows
(README.md, "Backend protocol")."""
from __future__ import annotations

import logging
from typing import Any

import webob
import webob.exc
from oslo_config import cfg

from objectstore.common import db, db_server
from objectstore.common.container_db import ContainerBroker
from objectstore.common.utils import Timestamp, split_path
from objectstore.container import reporter

LOG = logging.getLogger(__name__)

#: Metadata a container stores besides ``X-Container-Meta-*``/``-Sysmeta-*``.
_META_NAMES = frozenset((
    "x-container-read", "x-container-write", "x-versions-location", "x-history-location",
    "x-container-sync-to", "x-container-sync-key"))
_META_PREFIXES = ("x-container-meta-", "x-container-sysmeta-")


class ContainerServer(db_server.DbServer):
    """The WSGI app of the container server."""

    kind = "container"
    group = "container_server"
    broker_class = ContainerBroker

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        super().__init__(conf)
        group = conf.container_server
        self.conn_timeout = float(group.account_update_conn_timeout)
        self.node_timeout = float(group.account_update_node_timeout)
        self.reporter: reporter.AccountReporter | None = None
        if group.account_update_interval > 0:
            self.reporter = reporter.AccountReporter(
                group.account_update_interval, self.conn_timeout, self.node_timeout,
                self.busy_timeout)

    def close(self) -> None:
        """Stop the background reporter thread and close the kept database
        connections (tests, shutdown)."""
        if self.reporter is not None:
            self.reporter.stop()
        super().close()

    def target(self, path: str) -> db_server.Target:
        try:
            device, partition, account, container, obj = split_path(
                path, 4, 5, rest_with_last=True)
        except ValueError:
            raise webob.exc.HTTPBadRequest(body="Path must be /device/partition/a/c[/o]")
        assert device and partition and account and container
        return db_server.Target(device, partition, account, container, obj)

    # -- reads -----------------------------------------------------------------

    def HEAD(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        broker, headers = self._existing(req, target)
        return db_server.respond(204, headers=headers)

    def GET(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        broker, headers = self._existing(req, target)
        params = db_server.listing_params(req, self.conf.constraints.container_listing_limit)
        body = broker.list_objects_json(params.limit, params.marker, params.end_marker,
                                        params.prefix, params.delimiter, params.reverse,
                                        params.path)
        return db_server.json_response(body, headers)

    def _existing(self, req: webob.Request,
                  target: db_server.Target) -> tuple[ContainerBroker, dict[str, str]]:
        """The broker and the HEAD headers of a live container.

        :raises webob.exc.HTTPNotFound: missing or deleted (with its timestamps).
        """
        if target.obj is not None:
            raise webob.exc.HTTPBadRequest(body="No object reads on a container server")
        broker = self.broker(req, target)
        self._check_live(broker)
        info = broker.get_info()
        headers = db_server.timestamp_headers(info)
        headers.update({
            "X-Container-Object-Count": str(info["object_count"]),
            "X-Container-Bytes-Used": str(info["bytes_used"]),
            "X-Backend-Storage-Policy-Index": "0",
        })
        headers.update(db_server.metadata_headers(broker.metadata))
        return broker, headers

    @staticmethod
    def _check_live(broker: ContainerBroker) -> None:
        if not broker.exists():
            raise webob.exc.HTTPNotFound()
        if broker.is_deleted():
            headers = db_server.timestamp_headers(broker.get_info())
            raise webob.exc.HTTPNotFound(headers=headers)

    # -- writes ----------------------------------------------------------------

    def PUT(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        timestamp = db_server.req_timestamp(req)
        if target.obj is not None:
            return self._put_object(req, target, timestamp)
        assert target.container is not None
        self.check_name(target.container, "Container")
        self.check_metadata(req, "container")
        broker = self.broker(req, target)
        created = self._create_or_revive(broker, timestamp)
        if created is None:
            return webob.exc.HTTPConflict(body="A newer delete exists")
        broker.update_metadata(self._metadata(req, timestamp))
        status = self._account_update(req, broker)
        if status == 404:
            return webob.exc.HTTPNotFound(body="Account not found")
        return db_server.respond(201 if created else 202)

    def _create_or_revive(self, broker: ContainerBroker, timestamp: Timestamp) -> bool | None:
        """Create the database or move its put timestamp forward.

        :returns: True when the container (re)appeared, False when it existed,
            None when a newer delete keeps it deleted.
        """
        if not broker.exists():
            try:
                broker.initialize(timestamp.internal)
                return True
            except db.DatabaseAlreadyExists:
                pass
        was_deleted = broker.is_deleted()
        broker.update_put_timestamp(timestamp.internal)
        if broker.is_deleted():
            return None
        return was_deleted

    def _put_object(self, req: webob.Request, target: db_server.Target,
                    timestamp: Timestamp) -> webob.Response:
        assert target.obj is not None
        try:
            size = int(req.headers["X-Size"])
        except (KeyError, ValueError):
            raise webob.exc.HTTPBadRequest(body="Missing or bad X-Size header")
        broker = self.broker(req, target)
        self._check_live(broker)
        broker.put_object(target.obj, timestamp.internal, size,
                          req.headers.get("X-Content-Type", ""), req.headers.get("X-Etag", ""))
        self._schedule_report(broker)
        return db_server.respond(201)

    def POST(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        if target.obj is not None:
            return webob.exc.HTTPBadRequest(body="No object POST on a container server")
        timestamp = db_server.req_timestamp(req)
        self.check_metadata(req, "container")
        broker = self.broker(req, target)
        self._check_live(broker)
        broker.update_metadata(self._metadata(req, timestamp))
        return db_server.respond(204)

    def DELETE(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        timestamp = db_server.req_timestamp(req)
        broker = self.broker(req, target)
        if not broker.exists():
            return webob.exc.HTTPNotFound()
        if target.obj is not None:
            broker.delete_object(target.obj, timestamp.internal)
            self._schedule_report(broker)
            return db_server.respond(204)
        if not broker.empty():
            return webob.exc.HTTPConflict(body="Container not empty")
        existed = not broker.is_deleted()
        broker.delete_db(timestamp.internal)
        if not broker.is_deleted():
            return webob.exc.HTTPConflict(body="A newer put exists")
        self._account_update(req, broker)
        return db_server.respond(204) if existed else webob.exc.HTTPNotFound()

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def _metadata(req: webob.Request, timestamp: Timestamp) -> dict[str, list[str]]:
        return db_server.metadata_from_headers(req, _META_PREFIXES, _META_NAMES, timestamp)

    def _account_update(self, req: webob.Request, broker: ContainerBroker) -> int | None:
        """Report the container to the account nodes of the request's
        ``X-Account-*`` headers (remembered for later background reports).

        :returns: 404 when the account nodes said the account does not exist (and
            none accepted), else None.
        """
        host = req.headers.get("X-Account-Host")
        if not host:
            return None
        partition = req.headers.get("X-Account-Partition", "")
        device = req.headers.get("X-Account-Device", "")
        try:
            nodes = reporter.account_nodes(host, partition, device)
        except ValueError as exc:
            LOG.warning("Bad account update headers: %(exc)s", {"exc": exc})
            return None
        broker.set_account_location(host, partition, device)
        statuses = reporter.send_report(broker, nodes, self.conn_timeout, self.node_timeout)
        if 404 in statuses and not any(s is not None and 200 <= s < 300 for s in statuses):
            return 404
        return None

    def _schedule_report(self, broker: ContainerBroker) -> None:
        if self.reporter is not None:
            self.reporter.schedule(broker.path)


def create_app(conf: cfg.ConfigOpts) -> Any:
    """The container server WSGI app (``conf`` has the object store options)."""
    return ContainerServer(conf)
