"""The dashboard in a real browser (headless Chromium through Playwright), as the
dashboard issue's user story: the demo user logs in, uploads an image, creates a
network with a subnet and a router to the external network, launches an instance
from the image on that network, waits until the table shows it Active, reads its
console log, attaches a new volume, associates a floating IP, deletes everything
and logs out; then the admin opens the hypervisors and services panels.

Against the CI cloud (fake virt driver, no block storage) the volume steps are
skipped; with ``STRATUS_E2E_CLOUD=/opt/stratus`` the whole story runs against the
devstack cloud (a real guest under QEMU). Screenshots of every page are kept in
``test-artifacts/test_dash_browser/``.
"""
from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any, Iterator

import pytest

from tests.functional.dashboard.browser import (
    Steps, chromium_page, login, logout, no_error_page, row_action, row_of, submit,
    wait_row_status)
from tests.functional.dashboard.conftest import Target


@pytest.fixture
def page(artifacts: str) -> Iterator[Any]:
    yield from chromium_page(artifacts)


def choose(page: Any, select: str, text: str) -> None:
    """Pick the option of ``select`` whose label contains ``text``."""
    option = page.locator("%s option" % select, has_text=text).first
    page.select_option(select, value=option.get_attribute("value"))


def row_id(page: Any, table: str, text: str) -> str:
    return str(row_of(page, table, text).first.get_attribute("data-id"))


def upload_image(page: Any, target: Target, steps: Steps, name: str, tmp: str) -> str:
    path = os.path.join(tmp, "%s.img" % name)
    with open(path, "wb") as handle:
        handle.write(b"\0" * (1 << 20))
    page.goto(target.url + "/project/images/create/")
    page.fill("#id_name", name)
    page.set_input_files("#id_image_file", path)
    guest = target.guest_image or {}
    # A real guest boots our tiny kernel and initramfs (the disk itself is blank).
    page.select_option("#id_disk_format", guest.get("disk_format", "raw"))
    if guest.get("kernel_id"):
        page.fill("#id_kernel_id", guest["kernel_id"])
        page.fill("#id_ramdisk_id", guest["ramdisk_id"])
    if guest.get("os_command_line"):
        page.fill("#id_properties", "os_command_line=%s" % guest["os_command_line"])
    steps.shot("image upload form")
    page.click("#form-submit")
    page.wait_for_url(re.compile(r".*/project/images/$"))
    no_error_page(page)
    wait_row_status(page, "images", name, "Active", timeout=120)
    steps.shot("image uploaded")
    return row_id(page, "images", name)


def create_network(page: Any, target: Target, steps: Steps, name: str) -> str:
    page.goto(target.url + "/project/networks/create/")
    page.fill("#id_name", name)
    page.fill("#id_subnet_name", name + "-subnet")
    page.fill("#id_cidr", "10.%d.%d.0/24" % (60 + uuid.uuid4().int % 40, uuid.uuid4().int % 250))
    steps.shot("network form")
    submit(page)
    page.goto(target.url + "/project/networks/")
    assert row_of(page, "networks", name).count() == 1
    steps.shot("networks")
    return row_id(page, "networks", name)


def create_router(page: Any, target: Target, steps: Steps, name: str, subnet: str) -> str:
    page.goto(target.url + "/project/routers/create/")
    page.fill("#id_name", name)
    choose(page, "#id_external_network", target.external_network)
    submit(page)
    page.goto(target.url + "/project/routers/")
    router_id = row_id(page, "routers", name)
    page.goto(target.url + "/project/routers/%s/interfaces/add/" % router_id)
    choose(page, "#id_subnet", subnet)
    submit(page)
    page.goto(target.url + "/project/routers/%s/" % router_id)
    assert row_of(page, "interfaces", subnet).count() or page.locator(
        "table#interfaces tbody tr:not(.empty)").count() == 1
    steps.shot("router with interface")
    return router_id


def launch(page: Any, target: Target, steps: Steps, name: str, image_id: str,
           network: str) -> str:
    page.goto(target.url + "/project/instances/launch/?image=%s" % image_id)
    page.fill("#id_name", name)
    choose(page, "#id_flavor", "m1.tiny")
    page.get_by_label(network, exact=True).check()
    steps.shot("launch form")
    page.click("#form-submit")
    page.wait_for_url(re.compile(r".*/project/instances/$"))
    no_error_page(page)
    steps.shot("instance building")
    # No reload: the row refreshes itself until the instance is Active.
    wait_row_status(page, "instances", name, "Active", timeout=600)
    steps.shot("instance active")
    return row_id(page, "instances", name)


def console_log(page: Any, target: Target, steps: Steps, server_id: str) -> None:
    page.goto(target.url + "/project/instances/%s/log/" % server_id)
    log = page.locator("#console-log")
    if target.real_guests:
        deadline = time.monotonic() + 300
        while "stratus-guest" not in log.inner_text() and time.monotonic() < deadline:
            page.wait_for_timeout(5000)
            page.reload()
        assert "stratus-guest" in log.inner_text()
    assert log.count() == 1
    steps.shot("console log")


def attach_new_volume(page: Any, target: Target, steps: Steps, name: str,
                      server_id: str) -> None:
    page.goto(target.url + "/project/volumes/create/")
    page.fill("#id_name", name)
    page.fill("#id_size", "1")
    submit(page)
    page.goto(target.url + "/project/volumes/")
    wait_row_status(page, "volumes", name, "Available", timeout=120)
    page.goto(target.url + "/project/instances/%s/attach_volume/" % server_id)
    choose(page, "#id_volume", name)
    submit(page)
    page.goto(target.url + "/project/volumes/")
    wait_row_status(page, "volumes", name, "In-use", timeout=180)
    steps.shot("volume attached")


def associate_floating_ip(page: Any, target: Target, steps: Steps, server_id: str,
                          server: str) -> str:
    page.goto(target.url + "/project/floating_ips/associate/?instance_id=%s" % server_id)
    choose(page, "#id_ip", "Allocate a new one from pool %s" % target.external_network)
    choose(page, "#id_port", server)
    steps.shot("associate floating ip")
    submit(page)
    page.goto(target.url + "/project/floating_ips/")
    row = row_of(page, "floating_ips", server)
    assert row.count() == 1, page.locator("table#floating_ips").inner_text()
    steps.shot("floating ip associated")
    return str(row.first.get_attribute("data-id"))


def wait_gone(page: Any, url: str, table: str, text: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if row_of(page, table, text).count() == 0:
            return
        assert time.monotonic() < deadline, "%s still listed in %s" % (text, table)
        page.wait_for_timeout(2000)


def _leftovers(target: Target, names: dict[str, str]) -> None:
    """Delete, through the APIs, what a failed run left (nothing after a pass)."""
    conn = target.demo()
    for server in conn.compute.servers(name="^%s$" % names["vm"]):
        ports = {p.id for p in conn.network.ports(device_id=server.id)}
        for fip in conn.network.ips():
            if fip.port_id in ports:
                conn.network.delete_ip(fip)
        conn.compute.delete_server(server, force=True)
        conn.compute.wait_for_delete(server, wait=120)
    for volume in conn.block_storage.volumes(name=names["vol"]) \
            if "block-storage" in target.services else []:
        conn.block_storage.wait_for_status(volume, "available", wait=120)
        conn.block_storage.delete_volume(volume)
    router = conn.network.find_router(names["router"])
    if router is not None:
        for port in conn.network.ports(device_id=router.id,
                                       device_owner="network:router_interface"):
            conn.network.remove_interface_from_router(router, port_id=port.id)
        conn.network.delete_router(router)
    net = conn.network.find_network(names["net"])
    if net is not None:
        conn.network.delete_network(net)
    image = conn.image.find_image(names["img"])
    if image is not None:
        conn.image.delete_image(image)


def test_dash_browser_demo_user_story(target: Target, page: Any, artifacts: str,
                                      tmp_path: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    names = {k: "e2e-%s-%s" % (k, tag) for k in ("img", "net", "router", "vm", "vol")}
    try:
        _story(target, page, artifacts, str(tmp_path), names)
    finally:
        _leftovers(target, names)


def _story(target: Target, page: Any, artifacts: str, tmp: str,
           names: dict[str, str]) -> None:
    steps = Steps(page, artifacts, "demo")
    login(page, target.url, target.demo_user, target.demo_password)
    steps.shot("overview")
    image_id = upload_image(page, target, steps, names["img"], tmp)
    create_network(page, target, steps, names["net"])
    router_id = create_router(page, target, steps, names["router"], names["net"] + "-subnet")
    server_id = launch(page, target, steps, names["vm"], image_id, names["net"])
    page.goto(target.url + "/project/instances/%s/" % server_id)
    no_error_page(page)
    steps.shot("instance overview")
    console_log(page, target, steps, server_id)
    if "block-storage" in target.services or "volumev3" in target.services:
        attach_new_volume(page, target, steps, names["vol"], server_id)
    associate_floating_ip(page, target, steps, server_id, names["vm"])

    # Delete everything, through the pages.
    page.goto(target.url + "/project/floating_ips/")
    row_action(page, "floating_ips", names["vm"], "Release")
    page.goto(target.url + "/project/instances/")
    row_action(page, "instances", names["vm"], "Delete Instance")
    wait_gone(page, target.url + "/project/instances/", "instances", names["vm"])
    if "block-storage" in target.services or "volumev3" in target.services:
        page.goto(target.url + "/project/volumes/")
        wait_row_status(page, "volumes", names["vol"], "Available", timeout=120)
        row_action(page, "volumes", names["vol"], "Delete")
        wait_gone(page, target.url + "/project/volumes/", "volumes", names["vol"])
    page.goto(target.url + "/project/routers/%s/" % router_id)
    row_action(page, "interfaces", "", "Remove Interface")
    page.goto(target.url + "/project/routers/")
    row_action(page, "routers", names["router"], "Delete")
    page.goto(target.url + "/project/networks/")
    row_action(page, "networks", names["net"], "Delete")
    wait_gone(page, target.url + "/project/networks/", "networks", names["net"])
    page.goto(target.url + "/project/images/")
    row_action(page, "images", names["img"], "Delete")
    wait_gone(page, target.url + "/project/images/", "images", names["img"])
    steps.shot("all deleted")
    logout(page)
    steps.shot("logged out")


def test_dash_browser_admin_panels(target: Target, page: Any, artifacts: str) -> None:
    steps = Steps(page, artifacts, "admin")
    login(page, target.url, "admin", target.admin_password)
    page.goto(target.url + "/admin/hypervisors/")
    no_error_page(page)
    assert page.locator("table#hypervisors tbody tr:not(.empty)").count() >= 1
    steps.shot("hypervisors")
    page.goto(target.url + "/admin/services/")
    no_error_page(page)
    services = page.locator("table#compute_services").inner_text()
    assert "nova-compute" in services and "nova-scheduler" in services
    steps.shot("services")
    logout(page)
