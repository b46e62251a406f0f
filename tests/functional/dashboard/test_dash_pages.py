"""The dashboard against a real cloud, without a browser: page times with 100
instances (fake driver), another project's resources are 404, admin pages 403
for a member."""
from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

import pytest

from tests.functional.dashboard.conftest import Target, WebUser

SCALE = 100


def _wait_active(conn: Any, names_prefix: str, count: int, timeout: float = 240) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        servers = [s for s in conn.compute.servers(name="^%s" % names_prefix)]
        states = [s.status for s in servers]
        if len(servers) >= count and all(s == "ACTIVE" for s in states):
            return servers
        assert "ERROR" not in states, "a server went to ERROR: %s" % states
        assert time.monotonic() < deadline, "servers not ACTIVE in %ss: %s" % (timeout, states)
        time.sleep(2)


def _timed(user: WebUser, path: str, rounds: int = 5) -> tuple[Any, list[float]]:
    times, resp = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        resp = user.get(path)
        times.append(time.perf_counter() - start)
        assert resp.status_code == 200, resp.text[-2000:]
    return resp, times


def test_dash_pages_with_100_instances(target: Target, artifacts: str) -> None:
    if target.real_guests:
        pytest.skip("100 instances need the fake virt driver (the CI cloud)")
    admin = target.admin()
    demo = target.demo()
    project = admin.identity.find_project(target.demo_project)
    admin.compute.update_quota_set(project.id, instances=SCALE + 50, cores=SCALE + 50,
                                   ram=512 * (SCALE + 50))
    image = admin.image.create_image(name="dash-scale-img", disk_format="raw",
                                     container_format="bare", visibility="public",
                                     data=b"\0" * 4096)
    net = demo.network.create_network(name="dash-scale-net")
    demo.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.99.0.0/22")
    flavor = demo.compute.find_flavor("m1.tiny")
    try:
        demo.compute.create_server(name="dash-scale", image_id=image.id, flavor_id=flavor.id,
                                   networks=[{"uuid": net.id}], min_count=SCALE,
                                   max_count=SCALE)
        servers = _wait_active(demo, "dash-scale", SCALE)
        user = WebUser(target.url)
        user.login(target.demo_user, target.demo_password)
        page, times = _timed(user, "/project/instances/")
        body = page.text
        assert body.count('id="row-') >= SCALE
        assert all(('id="row-%s"' % s.id) in body for s in servers)
        admin_user = WebUser(target.url)
        admin_user.login("admin", target.admin_password)
        _, admin_times = _timed(admin_user, "/admin/instances/")
        _, overview_times = _timed(user, "/project/overview/")
        figures = {"instances": SCALE,
                   "project_instances_s": {"p50": statistics.median(times), "max": max(times)},
                   "admin_instances_s": {"p50": statistics.median(admin_times),
                                         "max": max(admin_times)},
                   "overview_s": {"p50": statistics.median(overview_times),
                                  "max": max(overview_times)}}
        with open(os.path.join(artifacts, "page_times.json"), "w") as handle:
            json.dump(figures, handle, indent=2)
        print("dashboard page times with %d instances: %s" % (SCALE, json.dumps(figures)))
    finally:
        for server in demo.compute.servers(name="^dash-scale"):
            demo.compute.delete_server(server, force=True)
        deadline = time.monotonic() + 120
        while list(demo.compute.servers(name="^dash-scale")) and time.monotonic() < deadline:
            time.sleep(2)
        demo.network.delete_network(net, ignore_missing=True)
        admin.image.delete_image(image, ignore_missing=True)


def test_dash_other_projects_resources_are_404_and_admin_pages_403(target: Target) -> None:
    admin = target.admin()
    net = admin.network.create_network(name="dash-admin-private")
    try:
        member = WebUser(target.url)
        member.login(target.demo_user, target.demo_password)
        resp = member.get("/project/networks/%s/" % net.id)
        assert resp.status_code == 404
        assert "Traceback" not in resp.text
        resp = member.get("/project/instances/00000000-0000-0000-0000-000000000000/")
        assert resp.status_code == 404
        for path in ("/admin/hypervisors/", "/admin/services/", "/admin/projects/",
                     "/admin/instances/"):
            resp = member.get(path)
            assert resp.status_code == 403, path
        # The admin sees its own network's page; the demo project's panels stay its own.
        boss = WebUser(target.url)
        boss.login("admin", target.admin_password)
        assert boss.get("/project/networks/%s/" % net.id).status_code == 200
        assert boss.get("/admin/hypervisors/").status_code == 200
    finally:
        admin.network.delete_network(net, ignore_missing=True)


def test_dash_login_failures_and_logout(target: Target) -> None:
    user = WebUser(target.url)
    token = user.csrf("/auth/login/")
    resp = user.http.post(target.url + "/auth/login/", timeout=30,
                          data={"csrfmiddlewaretoken": token, "domain": "Default",
                                "username": target.demo_user, "password": "wrong"},
                          headers={"Referer": target.url + "/auth/login/"})
    assert resp.status_code == 400
    assert "Invalid user name, password or domain." in resp.text
    # A form post without the CSRF token is refused.
    resp = user.http.post(target.url + "/auth/login/", timeout=30,
                          data={"domain": "Default", "username": "x", "password": "y"})
    assert resp.status_code == 403 and "CSRF" in resp.text
    user.login(target.demo_user, target.demo_password)
    assert user.get("/project/overview/").status_code == 200
    cookie = user.http.cookies.get("stratus_session")
    assert cookie
    token = user.csrf("/project/overview/")
    resp = user.http.post(target.url + "/auth/logout/", data={"csrfmiddlewaretoken": token},
                          headers={"Referer": target.url + "/"}, timeout=30)
    assert resp.url.endswith("/auth/login/")
    again = user.get("/project/overview/")
    assert again.status_code == 302 and again.headers["Location"].startswith("/auth/login/")
