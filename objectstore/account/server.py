"""The account server (port 6202): account databases and the container reports in
them (README.md, "Backend protocol")."""
from __future__ import annotations

from typing import Any

import webob
import webob.exc
from oslo_config import cfg

from objectstore.common import db, db_server
from objectstore.common.account_db import AccountBroker
from objectstore.common.utils import Timestamp, split_path

_META_PREFIXES = ("x-account-meta-", "x-account-sysmeta-")
_DELETED = {"X-Account-Status": "Deleted"}


class AccountServer(db_server.DbServer):
    """The WSGI app of the account server."""

    kind = "account"
    group = "account_server"
    broker_class = AccountBroker

    def target(self, path: str) -> db_server.Target:
        try:
            device, partition, account, container = split_path(path, 3, 4)
        except ValueError:
            raise webob.exc.HTTPBadRequest(body="Path must be /device/partition/a[/c]")
        assert device and partition and account
        return db_server.Target(device, partition, account, container)

    # -- reads -----------------------------------------------------------------

    def HEAD(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        broker, headers = self._existing(req, target)
        return db_server.respond(204, headers=headers)

    def GET(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        broker, headers = self._existing(req, target)
        params = db_server.listing_params(req, self.conf.constraints.account_listing_limit)
        body = broker.list_containers_json(params.limit, params.marker, params.end_marker,
                                           params.prefix, params.delimiter, params.reverse)
        return db_server.json_response(body, headers)

    def _existing(self, req: webob.Request,
                  target: db_server.Target) -> tuple[AccountBroker, dict[str, str]]:
        """The broker and the HEAD headers of a live account.

        :raises webob.exc.HTTPNotFound: missing or deleted.
        """
        if target.container is not None:
            raise webob.exc.HTTPBadRequest(body="No container reads on an account server")
        broker = self.broker(req, target)
        self._check_live(broker)
        info = broker.get_info()
        headers = db_server.timestamp_headers(info)
        headers.update({
            "X-Account-Container-Count": str(info["container_count"]),
            "X-Account-Object-Count": str(info["object_count"]),
            "X-Account-Bytes-Used": str(info["bytes_used"]),
        })
        headers.update(db_server.metadata_headers(broker.metadata))
        return broker, headers

    @staticmethod
    def _check_live(broker: AccountBroker) -> None:
        """:raises webob.exc.HTTPNotFound: missing, or deleted (``X-Account-Status:
        Deleted`` and the timestamps)."""
        if not broker.exists():
            raise webob.exc.HTTPNotFound()
        if broker.is_deleted():
            headers = db_server.timestamp_headers(broker.get_info())
            headers.update(_DELETED)
            raise webob.exc.HTTPNotFound(headers=headers)

    # -- writes ----------------------------------------------------------------

    def PUT(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        if target.container is not None:
            return self._put_container(req, target)
        timestamp = db_server.req_timestamp(req)
        self.check_name(target.account, "Account")
        self.check_metadata(req, "account")
        broker = self.broker(req, target)
        created = False
        if not broker.exists():
            try:
                broker.initialize(timestamp.internal)
                created = True
            except db.DatabaseAlreadyExists:
                pass
        if not created:
            if broker.is_status_deleted():
                return webob.exc.HTTPForbidden(body="Recently deleted", headers=_DELETED)
            broker.update_put_timestamp(timestamp.internal)
        broker.update_metadata(self._metadata(req, timestamp))
        return db_server.respond(201 if created else 202)

    def _put_container(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        """A container server's report: ``X-Put-Timestamp``, ``X-Delete-Timestamp``,
        ``X-Object-Count``, ``X-Bytes-Used``. 201 for a live container, 204 for a
        deleted one."""
        assert target.container is not None
        put = db_server.req_timestamp(req, "X-Put-Timestamp")
        delete = Timestamp(0)
        if req.headers.get("X-Delete-Timestamp"):
            delete = db_server.req_timestamp(req, "X-Delete-Timestamp")
        try:
            count = int(req.headers.get("X-Object-Count", 0))
            used = int(req.headers.get("X-Bytes-Used", 0))
        except ValueError:
            return webob.exc.HTTPBadRequest(body="Bad X-Object-Count or X-Bytes-Used")
        broker = self.broker(req, target)
        self._check_live(broker)
        broker.put_container(target.container, put.internal, delete.internal, count, used)
        return db_server.respond(204 if delete > put else 201)

    def POST(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        if target.container is not None:
            return webob.exc.HTTPBadRequest(body="No container POST on an account server")
        timestamp = db_server.req_timestamp(req)
        self.check_metadata(req, "account")
        broker = self.broker(req, target)
        self._check_live(broker)
        broker.update_metadata(self._metadata(req, timestamp))
        return db_server.respond(204)

    def DELETE(self, req: webob.Request, target: db_server.Target) -> webob.Response:
        """Mark the account deleted (the reaper removes its containers later).
        Containers leave an account by reports (a PUT with a newer delete timestamp)."""
        if target.container is not None:
            return webob.exc.HTTPMethodNotAllowed()
        timestamp = db_server.req_timestamp(req)
        broker = self.broker(req, target)
        self._check_live(broker)
        broker.delete_db(timestamp.internal)
        return db_server.respond(204)

    @staticmethod
    def _metadata(req: webob.Request, timestamp: Timestamp) -> dict[str, list[str]]:
        return db_server.metadata_from_headers(req, _META_PREFIXES, frozenset(), timestamp)


def create_app(conf: cfg.ConfigOpts) -> Any:
    """The account server WSGI app (``conf`` has the object store options)."""
    return AccountServer(conf)
