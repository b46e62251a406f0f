"""The identity daemon on PostgreSQL and MariaDB (skipped where no server answers)."""
from __future__ import annotations

import socket
import uuid
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.conftest import ADMIN_PASSWORD, IdentityCloud

SERVERS = {
    "postgresql": ("127.0.0.1", 5432, "postgresql+psycopg2://postgres@127.0.0.1:5432/%s",
                   "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
    "mariadb": ("127.0.0.1", 3306, "mysql+pymysql://root@127.0.0.1:3306/%s?charset=utf8mb4",
                "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4"),
}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=sorted(SERVERS), scope="module")
def db_cloud(request: Any, tmp_path_factory: Any) -> Iterator[IdentityCloud]:
    host, port, url_fmt, admin_url = SERVERS[request.param]
    if not _reachable(host, port):
        pytest.skip("%s is not running on %s:%d" % (request.param, host, port))
    name = "stratus_identity_%s" % uuid.uuid4().hex[:10]
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE %s" % name))
    except sa.exc.OperationalError as err:
        pytest.skip("cannot create a database on %s: %s" % (request.param, err))
    cloud = IdentityCloud(str(tmp_path_factory.mktemp(request.param)), url_fmt % name)
    try:
        yield cloud
    finally:
        cloud.daemon.stop()
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE %s" % name))
        admin.dispose()


def test_identity_on_server_database(db_cloud: IdentityCloud) -> None:
    auth = v3.Password(auth_url=db_cloud.auth_url, username="admin", password=ADMIN_PASSWORD,
                       project_name="admin", user_domain_name="Default",
                       project_domain_name="Default")
    sess = ks_session.Session(auth=auth)
    ep = {"service_type": "identity"}
    project = sess.post("/projects", json={"project": {"name": "p-db", "tags": ["a", "b"]}},
                        endpoint_filter=ep).json()["project"]
    assert project["tags"] == ["a", "b"]
    dup = sess.post("/projects", json={"project": {"name": "p-db"}}, endpoint_filter=ep,
                    raise_exc=False)
    assert dup.status_code == 409
    user = sess.post("/users", json={"user": {"name": "u-db", "password": "pw"}},
                     endpoint_filter=ep).json()["user"]
    roles = sess.get("/roles?name=member", endpoint_filter=ep).json()["roles"]
    sess.put("/projects/%s/users/%s/roles/%s" % (project["id"], user["id"], roles[0]["id"]),
             endpoint_filter=ep)
    member = ks_session.Session(auth=v3.Password(
        auth_url=db_cloud.auth_url, user_id=user["id"], password="pw",
        project_id=project["id"]))
    names = {r["name"] for r in member.get("/auth/tokens", endpoint_filter=ep, headers={
        "X-Subject-Token": member.get_token()}).json()["token"]["roles"]}
    assert names == {"member", "reader"}
    assignments = sess.get("/role_assignments?effective&user.id=%s" % user["id"],
                           endpoint_filter=ep).json()["role_assignments"]
    assert len(assignments) == 2
