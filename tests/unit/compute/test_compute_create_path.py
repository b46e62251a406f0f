"""What a server create reads, in plain statements and once per request: the
flavor (with its extra specs and projects, visible to the caller), the quota
limits (given to every check); and the times a server list renders."""
from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from common import context
from compute import exception
from compute import flavors as flavors_mod
from compute import quotas as quotas_mod
from compute.api import views_servers
from compute.db import models
from tests.fixtures import compute_daemons as dfx


@pytest.fixture
def db(tmp_path: Any) -> Iterator[Any]:
    conf, found = dfx.make_db(str(tmp_path))
    found.conf = conf
    yield found
    found.dispose()


def _ctxt(project: str, admin: bool = False) -> context.RequestContext:
    return context.RequestContext(user_id="u1", project_id=project, is_admin=admin,
                                  roles=["admin"] if admin else ["member"], overwrite=False)


def _orm_get(db: Any, flavorid: str) -> dict[str, Any]:
    """The flavor as the ORM reads it (what get() answered before)."""
    with db.reader() as session:
        row = session.scalars(sa.select(models.Flavor).where(
            models.Flavor.flavorid == flavorid)).one()
        return flavors_mod._as_dict(row)


def test_flavor_get_matches_the_orm_and_hides_private_flavors(db: Any) -> None:
    service = flavors_mod.FlavorService(db.conf, db)
    admin = _ctxt("admin-project", admin=True)
    public = service.create(admin, name="pub", memory_mb=512, vcpus=1, root_gb=1)
    private = service.create(admin, name="priv", memory_mb=1024, vcpus=2, root_gb=2,
                             is_public=False, description="d")
    with db.writer() as session:
        row = session.scalars(sa.select(models.Flavor).where(
            models.Flavor.flavorid == private["flavorid"])).one()
        for key, value in (("z:last", "1"), ("a:first", "2"), ("m:mid", None)):
            row.extra_specs.append(models.FlavorExtraSpec(key=key, value=value))
        for project in ("p2", "p1"):
            row.projects.append(models.FlavorProject(project_id=project))
    for flavor in (public, private):
        got = service.get(admin, flavor["flavorid"])
        assert got == _orm_get(db, flavor["flavorid"])
        assert list(got) == list(_orm_get(db, flavor["flavorid"]))
    got = service.get(_ctxt("p1"), private["flavorid"])
    assert list(got["extra_specs"]) == ["z:last", "a:first", "m:mid"]  # as stored
    assert got["projects"] == ["p1", "p2"]
    assert service.get(_ctxt("p3"), public["flavorid"])["name"] == "pub"
    with pytest.raises(exception.FlavorNotFound):
        service.get(_ctxt("p3"), private["flavorid"])
    with pytest.raises(exception.FlavorNotFound):
        service.get(admin, "no-such-flavor")


def test_quota_check_uses_the_limits_it_is_given(db: Any) -> None:
    quotas = quotas_mod.QuotaService(db.conf, db)
    project = "p-" + uuid.uuid4().hex[:6]
    quotas.update(project, {"instances": 1})
    limits = quotas.limits(project, "u1")
    assert limits["instances"] == 1
    quotas.check(project, "u1", {"instances": 1}, limits=limits)
    with pytest.raises(exception.TooManyInstances):
        quotas.check(project, "u1", {"instances": 2}, limits=limits)
    # Limits read earlier in the request are the ones applied.
    quotas.check(project, "u1", {"instances": 2}, limits=dict(limits, instances=5))
    with pytest.raises(exception.TooManyInstances):
        quotas.check(project, "u1", {"instances": 2})


@pytest.mark.parametrize("value", ["2026-12-06T03:00:00.123456", "1999-01-31T23:59:59.000000",
                                   "2026-12-06T03:00:00"])
def test_nova_time_of_stored_times(value: str) -> None:
    import datetime
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in value else "%Y-%m-%dT%H:%M:%S"
    if "." not in value:
        with pytest.raises(ValueError):
            views_servers.nova_time(value)
        return
    expected = datetime.datetime.strptime(value, fmt).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert views_servers.nova_time(value) == expected
    assert views_servers.nova_time(None) is None and views_servers.nova_time("") is None


def test_instance_create_answers_what_get_reads(db: Any) -> None:
    from compute.db import instances

    store = instances.InstanceStore(db)
    created = store.create({"project_id": "p1", "user_id": "u1", "vm_state": "building",
                            "flavor": dfx.TINY, "request_spec": {"hosts": ("a", "b")}},
                           metadata={"z": "1", "a": "2"})
    assert created == store.get(created["uuid"])
    assert list(created["metadata"]) == ["z", "a"] and created["tags"] == []
    assert (created["vcpus"], created["memory_mb"], created["root_gb"]) == (1, 512, 1)
    assert (created["network_info"], created["security_groups"], created["locked"],
            created["deleted"], created["display_name"]) == ([], [], False, 0, "")
    assert created["request_spec"] == {"hosts": ["a", "b"]}  # as JSON keeps it
    assert created["created_at"] and created["updated_at"] is None
    gone = store.create({"project_id": "p1", "user_id": "u1", "vm_state": "deleted",
                         "flavor": dfx.TINY, "deleted": 1})
    assert gone["deleted"] == 1
    with pytest.raises(ValueError):
        store.create({"project_id": "p1", "flavor": dfx.TINY, "no_such_column": 1})


def test_a_server_list_does_not_read_request_specs(db: Any) -> None:
    from compute import server_query
    from compute.db import instances

    store = instances.InstanceStore(db)
    uuid_ = store.create({"project_id": "p1", "user_id": "u1", "flavor": dfx.TINY,
                          "vm_state": "active",
                          "request_spec": {"image": {"id": "i1"}}})["uuid"]
    full = store.get_all(project_id="p1")
    listed = store.get_all(project_id="p1", without=server_query.NOT_SHOWN)
    assert [i["uuid"] for i in listed] == [i["uuid"] for i in full] == [uuid_]
    assert "request_spec" not in listed[0]
    assert listed[0] == {k: v for k, v in full[0].items() if k != "request_spec"}
