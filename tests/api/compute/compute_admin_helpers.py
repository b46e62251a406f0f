"""Helpers of the API tests of the compute admin and project resources
(os-services, os-hypervisors, quotas, server groups, aggregates …): rows put
straight into the database to stand for daemons, hypervisors and servers, and a
client that may ask for any microversion (with the maximum raised so that the
behaviour of later versions can be tested before the API claims them)."""
from __future__ import annotations

import datetime
import uuid
from typing import Any, Iterator

import pytest
import webtest
from compute_api_helpers import ADMIN, ADMIN_ROLES, Api

from compute import states
from compute.api import microversion
from compute.db import hosts, instances, models

FLAVOR = {"flavorid": "1", "name": "m1.tiny", "memory_mb": 128, "vcpus": 1, "root_gb": 1,
          "ephemeral_gb": 0, "extra_specs": {}}
LEGACY = "X-OpenStack-Nova-API-Version"


class MvApi(Api):
    """The compute test client; responses echo whichever version was asked for."""

    def check(self, method: str, path: str, resp: webtest.TestResponse) -> None:
        wanted = resp.request.headers.get(LEGACY, "2.1")
        if wanted == "latest":
            wanted = microversion.to_string(microversion.MAX_VERSION)
        if resp.status_int >= 400 or not path.startswith("/v2.1"):
            super().check(method, "/", resp)
        if path.startswith("/v2.1") and resp.status_int not in (400, 401, 406, 413, 415):
            assert resp.headers[LEGACY] == wanted, dict(resp.headers)

    def at(self, version: str, method: str, path: str, project_id: str | None = ADMIN,
           roles: str | None = ADMIN_ROLES, **kwargs: Any) -> webtest.TestResponse:
        headers = dict(kwargs.pop("headers", {}) or {})
        headers[LEGACY] = version
        return self.call(method, path, project_id, roles=roles, headers=headers, **kwargs)


def app_of(service: Any) -> Any:
    app = service.pipeline
    while not hasattr(app, "db"):
        app = app.app
    return app


@pytest.fixture(scope="module")
def mv(service: Any) -> MvApi:
    return MvApi(webtest.TestApp(service.pipeline))


@pytest.fixture(scope="module")
def db(service: Any) -> Any:
    return app_of(service).db


@pytest.fixture(autouse=True)
def latest(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(microversion, "MAX_VERSION", (2, 90))
    yield


def name(prefix: str = "h") -> str:
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def add_service(db: Any, host: str, binary: str = hosts.COMPUTE_BINARY,
                seen: datetime.datetime | None = None) -> dict[str, Any]:
    """A service that reported now (or at ``seen``: None leaves the report time)."""
    store = hosts.HostStore(db)
    service = store.service_report(binary, host, "compute")
    if seen is not None:
        with db.writer() as session:
            row = session.get(models.Service, service["id"])
            row.last_seen_up = seen
        service = store.service_get(service["id"])
    return service


def add_node(db: Any, host: str, **resources: Any) -> dict[str, Any]:
    values = {"hypervisor_hostname": host + ".local", "vcpus": 8, "memory_mb": 8192,
              "local_gb": 100, "vcpus_used": 2, "memory_mb_used": 1024, "local_gb_used": 10,
              "running_vms": 1, "hypervisor_type": "fake", "hypervisor_version": 1000,
              "disk_available_least": 80, "cpu_info": {"arch": "x86_64"},
              "host_ip": "192.0.2.10"}
    values.update(resources)
    return hosts.HostStore(db).compute_node_update(host, values)


def add_instance(db: Any, project_id: str, **values: Any) -> dict[str, Any]:
    base = {"project_id": project_id, "user_id": "user-" + project_id, "display_name": "vm",
            "vm_state": states.ACTIVE, "flavor": FLAVOR}
    base.update(values)
    return instances.InstanceStore(db).create(base)
