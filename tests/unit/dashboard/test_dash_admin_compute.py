"""Admin panels: hypervisors (summary math, detail), System Information
(services, agents, enable/disable) and flavors (create, extra specs, access)."""
from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from tests.unit.dashboard.conftest import _client, http_error, token_state


def named(name: str, **attrs: Any) -> mock.Mock:
    """A Mock with a ``name`` attribute (Mock's own ``name`` argument is not one)."""
    thing = mock.Mock(**attrs)
    thing.name = name
    return thing


def _hyp(hid: int, name: str, vcpus: tuple[int, int], ram: tuple[int, int],
         disk: tuple[int, int], vms: int, state: str = "up") -> mock.Mock:
    return named(name, id=hid, hypervisor_type="QEMU", vcpus_used=vcpus[0], vcpus=vcpus[1],
                 memory_used=ram[0], memory_size=ram[1], local_disk_used=disk[0],
                 local_disk_size=disk[1], running_vms=vms, state=state, status="enabled",
                 service_details={"host": name + "-svc", "id": hid, "disabled_reason": None})


@pytest.mark.parametrize("path", ["/admin/hypervisors/", "/admin/hypervisors/1/",
                                  "/admin/services/", "/admin/flavors/",
                                  "/admin/flavors/1/extra_specs/", "/admin/flavors/-/create/"])
def test_dash_admin_compute_member_gets_403(client: Any, conn: mock.MagicMock,
                                            path: str) -> None:
    assert client.get(path).status_code == 403
    assert client.post("/admin/services/compute/h/nova-compute/enable/").status_code == 403
    conn.compute.enable_service.assert_not_called()


def test_dash_admin_compute_hypervisor_summary_sums_every_node(
        admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.hypervisors.return_value = [
        _hyp(1, "node1", (1, 2), (1024, 4096), (10, 100), 1),
        _hyp(2, "node2", (5, 6), (2048, 4096), (0, 100), 3, state="down")]
    resp = admin_client.get("/admin/hypervisors/")
    assert resp.status_code == 200
    conn.compute.hypervisors.assert_called_once_with(details=True)
    body = resp.content.decode()
    summary = body[body.index('id="hypervisor-summary"'):body.index('id="hypervisors"')]
    assert "Used 6 of 8" in summary and 'stroke-dasharray="75 100"' in summary      # vCPUs
    assert "Used 3 GiB of 8 GiB" in summary and 'stroke-dasharray="38 100"' in summary  # RAM
    assert "Used 10 GiB of 200 GiB" in summary and 'stroke-dasharray="5 100"' in summary
    assert 'class="arc busy"' in summary                                         # 75 %
    row = body[body.index('id="row-2"'):]
    row = row[:row.index("</tr>")]
    assert "5 / 6" in row and "2 GiB / 4 GiB" in row and "0 B / 100 GiB" not in row
    assert "0 GiB / 100 GiB" in row and '<td data-col="running_vms">3</td>' in row
    assert '<span class="status bad">down</span>' in row
    assert 'href="/admin/hypervisors/2/"' in row


def test_dash_admin_compute_hypervisor_summary_without_nodes(
        admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.hypervisors.return_value = []
    body = admin_client.get("/admin/hypervisors/").content.decode()
    assert "Used 0 of 0" in body and "No hypervisors have reported" in body


def test_dash_admin_compute_hypervisor_detail_lists_its_instances(
        admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.get_hypervisor.return_value = _hyp(1, "node1", (1, 2), (512, 4096),
                                                    (1, 100), 2)
    here = named("vm-one", id="s1", project_id="p1", status="ACTIVE", hypervisor_hostname="node1",
                     flavor={"id": "f1"})
    elsewhere = named("vm-9", id="s2", project_id="p1", status="ACTIVE",
                          hypervisor_hostname="node9", flavor={"id": "f1"})
    conn.compute.servers.return_value = [here, elsewhere]
    conn.compute.flavors.return_value = [named("m1.tiny", id="f1")]
    conn.identity.projects.return_value = [named("demo", id="p1")]
    resp = admin_client.get("/admin/hypervisors/1/")
    assert resp.status_code == 200
    conn.compute.servers.assert_called_once_with(details=True, all_projects=True,
                                                 compute_host="node1-svc")
    body = resp.content.decode()
    assert 'id="row-s1"' in body and "m1.tiny" in body and ">demo<" in body
    assert "vm-9" not in body


def _service(binary: str, status: str = "enabled", state: str = "up",
             reason: str | None = None) -> mock.Mock:
    return mock.Mock(binary=binary, host="vm", availability_zone="nova", status=status,
                     state=state, updated_at="2026-01-02T03:04:05.000000",
                     disabled_reason=reason)


def test_dash_admin_compute_services_tables(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.services.return_value = [_service("nova-scheduler"),
                                          _service("nova-compute", "disabled", "down", "maint")]
    conn.network.agents.return_value = [mock.Mock(
        id="a1", agent_type="L3 agent", binary="l3", host="vm", availability_zone=None,
        is_alive=False, is_admin_state_up=True, last_heartbeat_at=None)]
    conn.block_storage.services.return_value = [_service("cinder-volume")]
    resp = admin_client.get("/admin/services/")
    assert resp.status_code == 200
    body = resp.content.decode()
    for table in ("compute_services", "network_agents", "volume_services"):
        assert 'id="%s"' % table in body
    compute = body[body.index('id="row-compute-vm-nova-compute"'):]
    compute = compute[:compute.index("</tr>")]
    assert '<span class="status bad">disabled</span>' in compute
    assert '<span class="status bad">down</span>' in compute and "maint" in compute
    assert "/admin/services/compute/vm/nova-compute/enable/" in compute
    scheduler = body[body.index('id="row-compute-vm-nova-scheduler"'):]
    scheduler = scheduler[:scheduler.index("</tr>")]
    assert "Disable" not in scheduler and "Enable" not in scheduler
    agent = body[body.index('id="row-a1"'):]
    assert '<span class="status bad">down</span>' in agent[:agent.index("</tr>")]


def test_dash_admin_compute_services_failing_api_is_shown_in_place(
        django_app: None, conn: mock.MagicMock) -> None:
    admin = _client(token_state(roles=("admin",), services=("compute", "network", "identity")))
    conn.compute.services.return_value = []
    conn.network.agents.side_effect = http_error(503, "neutron is restarting")
    resp = admin.get("/admin/services/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'id="compute_services"' in body
    assert 'id="network_agents-error"' in body and "neutron is restarting (HTTP 503)" in body
    assert "volume_services" not in body                # no block-storage in the catalog
    conn.block_storage.services.assert_not_called()


def test_dash_admin_compute_disable_and_enable_nova_compute(
        admin_client: Any, conn: mock.MagicMock) -> None:
    page = admin_client.get("/admin/services/compute/vm/nova-compute/disable/")
    assert page.status_code == 200 and 'id="id_reason"' in page.content.decode()
    resp = admin_client.post("/admin/services/compute/vm/nova-compute/disable/",
                             {"reason": "disk swap"})
    assert resp.status_code == 302 and resp["Location"] == "/admin/services/"
    conn.compute.disable_service.assert_called_once_with(
        None, host="vm", binary="nova-compute", disabled_reason="disk swap")
    resp = admin_client.post("/admin/services/compute/vm/nova-compute/enable/")
    assert resp.status_code == 302
    conn.compute.enable_service.assert_called_once_with(None, host="vm", binary="nova-compute")
    assert admin_client.get("/admin/services/compute/vm/nova-compute/enable/").status_code == 405


def test_dash_admin_compute_enable_refusal_is_a_message(admin_client: Any,
                                                        conn: mock.MagicMock) -> None:
    conn.compute.enable_service.side_effect = http_error(400, "Unknown service")
    conn.compute.services.return_value = []
    resp = admin_client.post("/admin/services/compute/vm/nova-compute/enable/", follow=True)
    assert resp.status_code == 200 and "Unknown service (HTTP 400)" in resp.content.decode()


def test_dash_admin_compute_flavor_table(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.flavors.return_value = [
        named("tiny", id="1", vcpus=1, ram=512, disk=1, ephemeral=0, swap=0, rxtx_factor=1.0,
                  is_public=True),
        named("priv", id="p", vcpus=2, ram=2048, disk=20, ephemeral=5, swap=256, rxtx_factor=1.0,
                  is_public=False)]
    body = admin_client.get("/admin/flavors/").content.decode()
    assert '<table class="data" id="flavors">' in body
    priv = body[body.index('id="row-p"'):]
    priv = priv[:priv.index("</tr>")]
    assert "2 GiB" in priv and "5 GiB" in priv and "256 MiB" in priv and ">No<" in priv
    assert "/admin/flavors/p/access/" in priv and "/admin/flavors/p/extra_specs/" in priv
    tiny = body[body.index('id="row-1"'):]
    assert "/admin/flavors/1/access/" not in tiny[:tiny.index("</tr>")]


def test_dash_admin_compute_flavor_create_validates(admin_client: Any,
                                                    conn: mock.MagicMock) -> None:
    resp = admin_client.post("/admin/flavors/-/create/", {
        "name": " spaced", "flavor_id": "bad/id", "vcpus": "0", "ram": "0", "disk": "-1",
        "rxtx_factor": "0"})
    assert resp.status_code == 400
    body = resp.content.decode()
    assert body.count('class="error"') >= 6
    conn.compute.create_flavor.assert_not_called()


def test_dash_admin_compute_flavor_create(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.create_flavor.return_value = mock.Mock(id="uuid-1")
    resp = admin_client.post("/admin/flavors/-/create/", {
        "name": "dash-test", "flavor_id": "auto", "vcpus": "2", "ram": "1024", "disk": "0",
        "is_public": "on"})
    assert resp.status_code == 302 and resp["Location"] == "/admin/flavors/"
    conn.compute.create_flavor.assert_called_once_with(
        name="dash-test", vcpus=2, ram=1024, disk=0, ephemeral=0, swap=0, is_public=True)
    conn.compute.create_flavor.reset_mock()
    admin_client.post("/admin/flavors/-/create/", {
        "name": "x", "flavor_id": "my.id", "vcpus": "1", "ram": "1", "disk": "1",
        "ephemeral": "2", "swap": "3", "rxtx_factor": "1.5"})
    conn.compute.create_flavor.assert_called_once_with(
        name="x", vcpus=1, ram=1, disk=1, ephemeral=2, swap=3, is_public=False, id="my.id",
        rxtx_factor=1.5)


def test_dash_admin_compute_flavor_create_refusal_on_the_form(
        admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.create_flavor.side_effect = http_error(409, "Flavor with name x exists.")
    resp = admin_client.post("/admin/flavors/-/create/", {
        "name": "x", "vcpus": "1", "ram": "1", "disk": "1"})
    assert resp.status_code == 400
    assert "Flavor with name x exists. (HTTP 409)" in resp.content.decode()


def test_dash_admin_compute_flavor_delete(admin_client: Any, conn: mock.MagicMock) -> None:
    resp = admin_client.post("/admin/flavors/f%201/delete/")
    assert resp.status_code == 302
    conn.compute.delete_flavor.assert_called_once_with("f 1", ignore_missing=False)


def test_dash_admin_compute_flavor_extra_specs(admin_client: Any, conn: mock.MagicMock) -> None:
    flavor = named("tiny", id="f1", vcpus=1, ram=64, disk=1, is_public=True,
                       extra_specs={"hw:cpu_policy": "dedicated"})
    conn.compute.fetch_flavor_extra_specs.return_value = flavor
    body = admin_client.get("/admin/flavors/f1/extra_specs/").content.decode()
    assert 'id="row-hw:cpu_policy"' in body and "dedicated" in body
    assert "/admin/flavors/f1/extra_specs/delete/?key=hw%3Acpu_policy" in body
    bad = admin_client.post("/admin/flavors/f1/extra_specs/", {"key": "bad/key", "value": "1"})
    assert bad.status_code == 400
    conn.compute.create_flavor_extra_specs.assert_not_called()
    resp = admin_client.post("/admin/flavors/f1/extra_specs/",
                             {"key": "quota:disk_read_bytes_sec", "value": "10240"})
    assert resp.status_code == 302 and resp["Location"] == "/admin/flavors/f1/extra_specs/"
    conn.compute.create_flavor_extra_specs.assert_called_once_with(
        "f1", {"quota:disk_read_bytes_sec": "10240"})
    resp = admin_client.post("/admin/flavors/f1/extra_specs/delete/?key=hw%3Acpu_policy")
    assert resp.status_code == 302
    conn.compute.delete_flavor_extra_specs_property.assert_called_once_with(
        "f1", "hw:cpu_policy", ignore_missing=False)


def test_dash_admin_compute_flavor_access(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.compute.get_flavor.return_value = named("priv", id="f1", vcpus=1, ram=64, disk=1,
                                                     is_public=False)
    conn.compute.get_flavor_access.return_value = [{"flavor_id": "f1", "tenant_id": "p1"}]
    conn.identity.projects.return_value = [named("demo", id="p1"),
                                           named("alt", id="p2")]
    body = admin_client.get("/admin/flavors/f1/access/").content.decode()
    assert 'id="row-p1"' in body and ">demo<" in body
    select = body[body.index('id="id_project"'):]
    select = select[:select.index("</select>")]
    assert 'value="p2"' in select and 'value="p1"' not in select
    resp = admin_client.post("/admin/flavors/f1/access/", {"project": "p2"})
    assert resp.status_code == 302
    conn.compute.flavor_add_tenant_access.assert_called_once_with("f1", "p2")
    resp = admin_client.post("/admin/flavors/f1/access/remove/?project=p1")
    assert resp.status_code == 302 and resp["Location"] == "/admin/flavors/f1/access/"
    conn.compute.flavor_remove_tenant_access.assert_called_once_with("f1", "p1")
