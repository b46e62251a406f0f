"""The metadata API over a real instance store (SQLite): the signed headers of
the network service's metadata agent, OpenStack and EC2 paths, the password,
the per-instance cache; and one request through the real metadata agent to a
served app."""
from __future__ import annotations

import base64
import json
import threading
from typing import Any, Iterator

import pytest
import webtest
from oslo_config import cfg

from common.db import engine
from common.db import migration
from common.wsgi import server as wsgi_server
from compute import conf as compute_conf
from compute.cmd import manage
from compute.db import instances
from compute.metadata import app as metadata_app
from network.agents.metadata import agent as network_agent
from network.agents.metadata import config as network_metadata_config
from tests.unit.compute import test_compute_metadata_content as samples

SECRET = "s3cret"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore(instances.InstanceStore):
    def __init__(self, db: engine.Database) -> None:
        super().__init__(db)
        self.gets = 0

    def get(self, instance_uuid: str, read_deleted: bool = False) -> dict[str, Any]:
        self.gets += 1
        return super().get(instance_uuid, read_deleted)


@pytest.fixture()
def store(tmp_path: Any) -> Iterator[CountingStore]:
    url = "sqlite:///%s/compute.sqlite" % tmp_path
    migration.sync(manage.MIGRATIONS, url)
    db = engine.Database(engine.create_engine(url))
    yield CountingStore(db)
    db.dispose()


def _conf(**overrides: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    compute_conf.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("metadata_proxy_shared_secret", SECRET, group="metadata")
    for key, value in overrides.items():
        conf.set_override(key, value, group="metadata")
    return conf


def _create(store: instances.InstanceStore, project: str = "p1", **values: Any
            ) -> dict[str, Any]:
    base = samples.instance()
    for key in ("id", "uuid", "metadata"):
        base.pop(key)
    base.update({"project_id": project, "vm_state": "active", "task_state": None})
    base.update(values)
    return store.create(base, metadata={"role": "web"})


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def client(store: CountingStore, clock: Clock) -> webtest.TestApp:
    return webtest.TestApp(metadata_app.MetadataApp(_conf(), store, clock=clock))


def _headers(inst: dict[str, Any], tenant: str | None = None,
             secret: str = SECRET) -> dict[str, str]:
    return {"X-Instance-ID": inst["uuid"], "X-Tenant-ID": tenant or inst["project_id"],
            "X-Forwarded-For": "10.0.0.5",
            "X-Instance-ID-Signature": metadata_app.sign(secret, inst["uuid"])}


def test_versions_need_no_headers(client: webtest.TestApp) -> None:
    resp = client.get("/")
    assert resp.content_type == "text/plain"
    assert resp.text.split("\n")[-2:] == ["2009-04-04", "latest"]


def test_signature_checks(client: webtest.TestApp, store: CountingStore) -> None:
    inst = _create(store)
    good = _headers(inst)
    assert client.get("/latest/meta-data/instance-id", headers=good).text == \
        "i-%08x" % inst["id"]
    bad = dict(good, **{"X-Instance-ID-Signature": "0" * 64})
    assert client.get("/latest/meta-data/", headers=bad, status=403).status_int == 403
    other_secret = _headers(inst, secret="other")
    client.get("/openstack/latest/meta_data.json", headers=other_secret, status=403)
    missing = {k: v for k, v in good.items() if k != "X-Instance-ID-Signature"}
    client.get("/openstack/latest/meta_data.json", headers=missing, status=403)
    no_id = {k: v for k, v in good.items() if k != "X-Instance-ID"}
    resp = client.get("/openstack/latest/meta_data.json", headers=no_id, status=400)
    assert "X-Instance-ID" in resp.text
    no_tenant = {k: v for k, v in good.items() if k != "X-Tenant-ID"}
    client.get("/openstack/latest/meta_data.json", headers=no_tenant, status=400)
    # The signature is checked before the database is read.
    assert store.gets == 1


def test_other_tenant_unknown_and_deleted_instances(client: webtest.TestApp,
                                                    store: CountingStore) -> None:
    inst = _create(store)
    client.get("/openstack/latest/meta_data.json", headers=_headers(inst, tenant="p2"),
               status=404)
    ghost = {"uuid": "0b7d2a5e-0000-4000-8000-000000000000", "project_id": "p1"}
    client.get("/openstack/latest/meta_data.json", headers=_headers(ghost), status=404)
    gone = _create(store)
    store.destroy(gone["uuid"])
    client.get("/openstack/latest/meta_data.json", headers=_headers(gone), status=404)


def test_openstack_paths(client: webtest.TestApp, store: CountingStore) -> None:
    inst = _create(store)
    headers = _headers(inst)
    resp = client.get("/openstack/latest/meta_data.json", headers=headers)
    assert resp.content_type == "application/json"
    data = resp.json
    assert data["uuid"] == inst["uuid"] and data["meta"] == {"role": "web"}
    assert data["public_keys"] == {"mykey": samples.KEY}
    assert data["hostname"] == "web-1.novalocal" and data["project_id"] == "p1"
    assert client.get("/openstack", headers=headers).text.endswith("2018-08-27\nlatest")
    assert "network_data.json" in client.get("/openstack/latest/", headers=headers).text
    resp = client.get("/openstack/latest/user_data", headers=headers)
    assert resp.body == b"#!/bin/sh\necho hi\n" and resp.content_type == "text/plain"
    net = client.get("/openstack/latest/network_data.json", headers=headers).json
    assert [n["type"] for n in net["networks"]] == ["ipv4_dhcp", "ipv6_slaac", "ipv4"]
    assert client.get("/openstack/latest/vendor_data.json", headers=headers).json == {}
    assert client.get("/openstack/latest/vendor_data2.json", headers=headers).json == {}
    client.get("/openstack/latest/nothing", headers=headers, status=404)
    client.get("/openstack/2000-01-01/meta_data.json", headers=headers, status=404)
    client.post("/openstack/latest/meta_data.json", headers=headers, status=405)


def test_user_data_absent_is_404(client: webtest.TestApp, store: CountingStore) -> None:
    inst = _create(store, user_data=None)
    client.get("/openstack/latest/user_data", headers=_headers(inst), status=404)
    client.get("/latest/user-data", headers=_headers(inst), status=404)
    assert client.get("/latest", headers=_headers(inst)).text == "meta-data/"


def test_ec2_paths(client: webtest.TestApp, store: CountingStore) -> None:
    inst = _create(store)
    headers = _headers(inst)
    listing = client.get("/latest/meta-data/", headers=headers).text.split("\n")
    assert "public-keys/" in listing and "instance-id" in listing
    for path, want in (("latest/meta-data/hostname", "web-1.novalocal"),
                       ("latest/meta-data/local-ipv4", "10.0.0.5"),
                       ("latest/meta-data/public-ipv4", "172.24.4.10"),
                       ("latest/meta-data/instance-type", "m1.tiny"),
                       ("2009-04-04/meta-data/placement/availability-zone", "nova"),
                       ("latest/meta-data/public-keys/", "0=mykey"),
                       ("latest/meta-data/public-keys/0/openssh-key", samples.KEY),
                       ("latest/meta-data/security-groups", "default\nweb"),
                       ("2009-04-04/user-data", "#!/bin/sh\necho hi\n")):
        resp = client.get("/" + path, headers=headers)
        assert (resp.text, resp.content_type) == (want, "text/plain"), path
    client.get("/latest/meta-data/nothing", headers=headers, status=404)
    client.get("/1999-01-01/meta-data/", headers=headers, status=404)


def test_documents_are_cached_per_instance(client: webtest.TestApp, store: CountingStore,
                                           clock: Clock) -> None:
    inst = _create(store)
    headers = _headers(inst)
    first = client.get("/openstack/latest/meta_data.json", headers=headers).json
    for path in ("/latest/meta-data/", "/latest/meta-data/hostname",
                 "/openstack/latest/network_data.json"):
        client.get(path, headers=headers)
    assert store.gets == 1
    store.set_metadata(inst["uuid"], {"role": "db"}, replace=True)
    clock.now += 14
    again = client.get("/openstack/latest/meta_data.json", headers=headers).json
    assert again == first and store.gets == 1
    clock.now += 2
    fresh = client.get("/openstack/latest/meta_data.json", headers=headers).json
    assert fresh["meta"] == {"role": "db"} and fresh["random_seed"] != first["random_seed"]
    assert store.gets == 2


def test_cache_can_be_disabled(store: CountingStore) -> None:
    client = webtest.TestApp(metadata_app.MetadataApp(
        _conf(metadata_cache_expiration=0), store))
    inst = _create(store)
    for _ in range(3):
        client.get("/latest/meta-data/hostname", headers=_headers(inst))
    assert store.gets == 3


def test_cache_is_bounded() -> None:
    cache = metadata_app.MetadataCache(15, max_entries=2)
    made = [metadata_app.content.InstanceMetadata(samples.instance(uuid="u%d" % i))
            for i in range(3)]
    for md in made:
        cache.put(md)
    assert cache.get("u0") is None and cache.get("u2") is made[2]


def test_password_set_once(client: webtest.TestApp, store: CountingStore) -> None:
    inst = _create(store)
    headers = _headers(inst)
    url = "/openstack/latest/password"
    assert client.get(url, headers=headers).body == b""
    client.post(url, "c2VjcmV0", headers=headers)
    assert client.get(url, headers=headers).text == "c2VjcmV0"
    sysmeta = store.get(inst["uuid"])["system_metadata"]
    assert sysmeta["password_0"] == "c2VjcmV0"
    client.post(url, "again", headers=headers, status=409)
    client.put(url, "x", headers=headers, status=400)
    other = _create(store)
    client.post(url, "x" * 257, headers=_headers(other), status=400)
    client.post("/openstack/2012-08-10/password", "x", headers=_headers(other), status=405)
    client.post(url, "p" * 256, headers=_headers(other))
    assert client.get(url, headers=_headers(other)).text == "p" * 256


def test_served_app_health_and_request_id(store: CountingStore) -> None:
    client = webtest.TestApp(metadata_app.build_app(_conf(), store))
    resp = client.get("/healthcheck")
    assert resp.text == "OK"
    assert client.get("/").headers["X-OpenStack-Request-ID"].startswith("req-")


def test_through_the_network_metadata_agent(store: CountingStore, tmp_path: Any) -> None:
    """The network service's agent signs and forwards; the served app answers."""
    inst = _create(store)
    server = wsgi_server.Server(metadata_app.build_app(_conf(), store), "127.0.0.1", 0,
                                threads=2)
    server.start()
    try:
        conf = cfg.ConfigOpts()
        conf.register_opts([cfg.StrOpt("state_path", default=str(tmp_path))])
        network_metadata_config.register_opts(conf)
        conf([], default_config_files=[])
        conf.set_override("nova_metadata_port", server.port, group="metadata")
        conf.set_override("metadata_proxy_shared_secret", SECRET, group="metadata")
        conf.set_override("nova_metadata_timeout", 5.0, group="metadata")

        class Ports:
            def get_ports_for_metadata(self, ctxt: Any, ip_address: str,
                                       router_id: str | None = None,
                                       network_id: str | None = None) -> list[dict[str, Any]]:
                return [{"device_owner": "compute:nova", "device_id": inst["uuid"],
                         "project_id": inst["project_id"]}]

        proxy = network_agent.MetadataProxy(conf, Ports())
        headers = {"X-Forwarded-For": "10.0.0.5", "X-Neutron-Router-ID": "r1"}
        results: list[tuple[int, bytes]] = []

        def fetch(path: str) -> None:
            status, _, body = proxy.handle("GET", path, headers, None)
            results.append((status, body))

        threads = [threading.Thread(target=fetch, args=(p,)) for p in (
            "/latest/meta-data/instance-id", "/openstack/latest/meta_data.json")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        bodies = dict((b[:2], (s, b)) for s, b in results)
        assert bodies[b"i-"] == (200, ("i-%08x" % inst["id"]).encode())
        assert json.loads(bodies[b"{\""][1])["uuid"] == inst["uuid"]
        status, _, body = proxy.handle("GET", "/openstack/latest/user_data", headers, None)
        assert (status, body) == (200, base64.b64decode(inst["user_data"]))
        conf.set_override("metadata_proxy_shared_secret", "wrong", group="metadata")
        status, _, _ = proxy.handle("GET", "/latest/meta-data/", headers, None)
        assert status == 403
    finally:
        server.stop()
