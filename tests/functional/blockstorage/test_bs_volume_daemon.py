"""The scheduler and volume daemons as real processes, on a RabbitMQ vhost of
their own and an SQLite database migrated by ``stratus-manage blockstorage db
sync``. The test drives them the way the API does: it writes the rows with the
stores and casts/calls through ``blockstorage.rpcapi``, then watches the rows
and the volume files (file driver, file target; an iSCSI export through a tgtd
of the test's own when tgt is installed).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from oslo_config import cfg

from common import context
from common import rpc
from common.db import engine
from blockstorage import conf as bs_conf
from blockstorage import rpcapi
from blockstorage.db import services as services_db
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import types as types_db
from blockstorage.db import volumes as volumes_db
from tests.functional.conftest import BIN, Daemon, RabbitVhost, _tail, free_port

GiB = 1024 ** 3
NODE = "bs-node"
FILE_HOST = NODE + "@file"
ISCSI_HOST = NODE + "@iscsi"


def _command(console_script: str, module: str) -> list[str]:
    """The console script when installed, else the module it runs (same main())."""
    path = os.path.join(BIN, console_script)
    return [path] if os.path.exists(path) else [sys.executable, "-m", module]


_MANAGE_MODULE = ("import sys; from blockstorage.cmd import manage; "
                  "sys.exit(manage.register('stratus-manage', sys.argv[1:]))")


def _db_sync(conf_path: str) -> None:
    """``stratus-manage blockstorage db sync``; the group's own module when the
    installed stratus-manage predates the blockstorage entry point."""
    args = ["--config-file", conf_path, "db", "sync"]
    manage = os.path.join(BIN, "stratus-manage")
    result = subprocess.run([manage, "blockstorage", *args], capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0 and "unknown service" in result.stderr + result.stdout:
        result = subprocess.run([sys.executable, "-c", _MANAGE_MODULE, *args],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0,
             logs: Callable[[], str] = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s\n%s" % (what, logs()))


class Tgtd:
    """A tgtd of the test's own: management port and iSCSI portal on 127.0.0.1."""

    def __init__(self, state: str) -> None:
        self.control = 20000 + os.getpid() % 5000
        self.port = free_port()
        self.log = open(os.path.join(state, "tgtd.log"), "wb")
        self.proc = subprocess.Popen(
            ["tgtd", "-f", "-C", str(self.control),
             "--iscsi", "portal=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for("tgtd", lambda: subprocess.run(
            self.tgtadm("--op", "show", "--mode", "target"), capture_output=True)
            .returncode == 0, timeout=15)

    def tgtadm(self, *args: str) -> list[str]:
        return ["tgtadm", "--lld", "iscsi", "--control-port", str(self.control), *args]

    def targets(self) -> str:
        return subprocess.run(self.tgtadm("--op", "show", "--mode", "target"),
                              capture_output=True, text=True).stdout

    def stop(self) -> None:
        subprocess.run(self.tgtadm("--op", "delete", "--mode", "system"),
                       capture_output=True)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.log.close()


class Cloud:
    """Scheduler + file volume daemon (+ an iSCSI one with ``tgtd``) on one vhost."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.daemons: dict[str, Daemon] = {}
        self.tgtd: Tgtd | None = None
        self.vhost = RabbitVhost()
        self.conf_path = self._write("blockstorage.conf", [
            "[DEFAULT]", "state_path = %s" % state, "host = %s" % NODE,
            "transport_url = %s" % self.vhost.transport_url, "report_interval = 1",
            "debug = True",
            "[database]", "connection = sqlite:///%s/blockstorage.sqlite" % state,
            "[volume]", "report_interval = 1",
            "file_volumes_dir = %s" % os.path.join(state, "volumes")])
        _db_sync(self.conf_path)
        self.conf = cfg.ConfigOpts()
        bs_conf.register_opts(self.conf)
        self.conf(["--config-file", self.conf_path], project="stratus-test",
                  default_config_files=[])
        self.db = engine.Database.from_conf(self.conf, "blockstorage")
        self.volumes = volumes_db.VolumeStore(self.db)
        self.snapshots = snapshots_db.SnapshotStore(self.db)
        self.types = types_db.TypeStore(self.db)
        self.services = services_db.ServiceStore(self.db)
        rpc.init(self.conf, exmods=rpcapi.EXMODS)
        self.scheduler_api = rpcapi.SchedulerAPI()
        self.volume_api = rpcapi.VolumeAPI()
        self.ctxt = context.admin_context()

    def _write(self, name: str, lines: list[str]) -> str:
        path = os.path.join(self.state, name)
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    def start(self, name: str, console_script: str, module: str, *extra_conf: str) -> Daemon:
        log = os.path.join(self.state, name + ".log")
        old = self.daemons.get(name)
        if old is not None:
            os.replace(old.log + ".stdout", "%s.stdout.%d" % (old.log, time.monotonic_ns()))
        argv = _command(console_script, module) + ["--config-file", self.conf_path]
        for path in extra_conf:
            argv += ["--config-file", path]
        daemon = Daemon(argv + ["--log-file", log], log)
        self.daemons[name] = daemon
        return daemon

    def start_scheduler(self) -> None:
        self.start("scheduler", "stratus-blockstorage-scheduler", "blockstorage.cmd.scheduler")

    def start_volume(self, name: str = "volume-file", *extra_conf: str) -> Daemon:
        return self.start(name, "stratus-blockstorage-volume", "blockstorage.cmd.volume",
                          *extra_conf)

    def kill(self, name: str) -> None:
        daemon = self.daemons[name]
        os.kill(daemon.proc.pid, signal.SIGKILL)
        daemon.proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(_tail(d.log) + _tail(d.log + ".stdout")
                         for d in self.daemons.values())

    def report_count(self, binary: str, host: str) -> int:
        try:
            return int(self.services.get_by_host(host, binary)["report_count"] or 0)
        except Exception:
            return 0

    def wait_serving(self, binary: str, host: str, before: int = 0) -> None:
        """Until the daemon consumes: its row is registered (one count) before the
        RPC server starts and beats (another) right after; a cast sent earlier
        would find no queue and be dropped."""
        wait_for("%s on %s serving" % (binary, host),
                 lambda: self.report_count(binary, host) >= before + 2, logs=self.logs)

    def wait_backend(self, host: str, since: str = "") -> None:
        """Until ``host``'s services row has a capacity report newer than ``since``."""
        def reported() -> bool:
            try:
                caps = self.services.get_by_host(host, rpcapi.VOLUME_BINARY)["capabilities"]
            except Exception:
                return False
            return bool(caps) and str(caps.get("timestamp")) > since
        wait_for("a capacity report of %s" % host, reported, logs=self.logs)

    def new_volume(self, size: int = 1, **values: Any) -> str:
        row = {"project_id": "p", "user_id": "u", "size": size, "status": "creating",
               "attach_status": "detached", "availability_zone": "nova", **values}
        return str(self.volumes.create(row)["id"])

    def wait_volume(self, volume_id: str, statuses: tuple[str, ...],
                    timeout: float = 30.0) -> dict[str, Any]:
        def settled() -> dict[str, Any] | None:
            volume = self.volumes.get(volume_id)
            return volume if volume["status"] in statuses else None
        return dict(wait_for("volume %s in %s" % (volume_id, statuses), settled, timeout,
                             logs=self.logs))

    def wait_gone(self, volume_id: str) -> None:
        def gone() -> bool:
            try:
                self.volumes.get(volume_id)
            except Exception:
                return True
            return False
        wait_for("volume %s deleted" % volume_id, gone, logs=self.logs)

    def stop(self) -> None:
        rpc.cleanup()
        for daemon in self.daemons.values():
            daemon.stop()
        if self.tgtd is not None:
            self.tgtd.stop()
        self.db.dispose()
        self.vhost.delete()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: Any) -> Iterator[Cloud]:
    the_cloud = Cloud(str(tmp_path_factory.mktemp("blockstorage")))
    try:
        the_cloud.start_scheduler()
        the_cloud.start_volume()
        the_cloud.wait_serving(rpcapi.SCHEDULER_BINARY, NODE)
        the_cloud.wait_serving(rpcapi.VOLUME_BINARY, FILE_HOST)
        the_cloud.wait_backend(FILE_HOST)
        yield the_cloud
    finally:
        the_cloud.stop()


def qemu_info(path: str) -> dict[str, Any]:
    out = subprocess.run(["qemu-img", "info", "--output=json", path], check=True,
                         capture_output=True, text=True).stdout
    return dict(json.loads(out))


def test_volume_lifecycle(cloud: Cloud) -> None:
    # create: scheduled on the file backend, a sparse raw file of the size
    vid = cloud.new_volume(1)
    cloud.scheduler_api.create_volume(cloud.ctxt, vid, {}, {})
    volume = cloud.wait_volume(vid, ("available", "error"))
    assert volume["status"] == "available", volume["admin_metadata"]
    assert volume["host"] == FILE_HOST + "#file"
    path = volume["provider_location"].split(":", 1)[1]
    assert os.path.getsize(path) == GiB
    with open(path, "r+b") as handle:
        handle.write(b"written-by-test")

    # snapshot
    snap = cloud.snapshots.create({"project_id": "p", "user_id": "u", "volume_id": vid,
                                   "size": 1, "status": "creating"})
    cloud.volume_api.create_snapshot(cloud.ctxt, volume["host"], snap["id"])
    wait_for("snapshot available", lambda: cloud.snapshots.get(snap["id"])["status"]
             == "available", logs=cloud.logs)

    # clone, through the scheduler: same backend, same data
    clone_id = cloud.new_volume(1, source_volid=vid)
    cloud.scheduler_api.create_volume(cloud.ctxt, clone_id, {"source_volid": vid}, {})
    clone = cloud.wait_volume(clone_id, ("available", "error"))
    assert clone["status"] == "available"
    clone_path = clone["provider_location"].split(":", 1)[1]
    with open(clone_path, "rb") as handle:
        assert handle.read(15) == b"written-by-test"

    # extend, through the scheduler's capacity check
    cloud.volumes.update(vid, {"status": "extending"})
    cloud.scheduler_api.extend_volume(cloud.ctxt, vid, 3, {})
    volume = cloud.wait_volume(vid, ("available", "error_extending"))
    assert (volume["status"], volume["size"]) == ("available", 3)
    assert qemu_info(path)["virtual-size"] == 3 * GiB

    # a connection (RPC call)
    info = cloud.volume_api.initialize_connection(cloud.ctxt, volume["host"], vid,
                                                  {"host": "compute-1"})
    assert info["driver_volume_type"] == "file"
    assert info["data"]["device_path"] == path

    # delete with its snapshot (cascade); the clone is independent
    cloud.volumes.update(vid, {"status": "deleting"})
    cloud.volume_api.delete_volume(cloud.ctxt, volume["host"], vid, cascade=True)
    cloud.wait_gone(vid)
    assert not os.path.exists(path)
    assert os.path.exists(clone_path)
    assert cloud.snapshots.count(snapshots_db.Query(volume_id=vid)) == 0


def test_no_valid_backend(cloud: Cloud) -> None:
    vid = cloud.new_volume(100000)
    cloud.scheduler_api.create_volume(cloud.ctxt, vid, {}, {})
    volume = cloud.wait_volume(vid, ("error", "available"))
    assert volume["status"] == "error"
    assert "CapacityFilter removed 1 of 1" in volume["admin_metadata"]["fail_reason"]


def test_kill_during_create_leaves_no_creating_volume(cloud: Cloud) -> None:
    slow = cloud._write("slow.conf", ["[volume]", "debug_create_delay = 60"])
    since = cloud.services.get_by_host(FILE_HOST, rpcapi.VOLUME_BINARY)["capabilities"][
        "timestamp"]
    cloud.daemons["volume-file"].stop()
    before = cloud.report_count(rpcapi.VOLUME_BINARY, FILE_HOST)
    cloud.start_volume("volume-file", slow)
    cloud.wait_serving(rpcapi.VOLUME_BINARY, FILE_HOST, before)
    cloud.wait_backend(FILE_HOST, since)
    vid = cloud.new_volume(1)
    cloud.scheduler_api.create_volume(cloud.ctxt, vid, {}, {})
    wait_for("the volume to be scheduled",
             lambda: cloud.volumes.get(vid)["host"] is not None, logs=cloud.logs)
    time.sleep(1.0)  # the daemon took the cast and sits in the slow create
    assert cloud.volumes.get(vid)["status"] == "creating"
    cloud.kill("volume-file")
    before = cloud.report_count(rpcapi.VOLUME_BINARY, FILE_HOST)
    cloud.start_volume()
    volume = cloud.wait_volume(vid, ("error", "available"))
    assert volume["status"] == "error"
    assert "restarted" in volume["admin_metadata"]["fail_reason"]
    # The restarted daemon serves new work.
    cloud.wait_serving(rpcapi.VOLUME_BINARY, FILE_HOST, before)
    again = cloud.new_volume(1)
    cloud.scheduler_api.create_volume(cloud.ctxt, again, {}, {})
    assert cloud.wait_volume(again, ("available", "error"))["status"] == "available"


@pytest.mark.skipif(shutil.which("tgtd") is None, reason="tgt is not installed")
def test_iscsi_export_through_tgt(cloud: Cloud) -> None:
    cloud.tgtd = Tgtd(cloud.state)
    iscsi_conf = cloud._write("iscsi.conf", [
        "[volume]", "backend_name = iscsi", "target_protocol = iscsi",
        "target_ip_address = 127.0.0.1", "target_port = %d" % cloud.tgtd.port,
        "tgt_control_port = %d" % cloud.tgtd.control,
        "file_volumes_dir = %s" % os.path.join(cloud.state, "iscsi-volumes")])
    cloud.start_volume("volume-iscsi", iscsi_conf)
    cloud.wait_serving(rpcapi.VOLUME_BINARY, ISCSI_HOST)
    cloud.wait_backend(ISCSI_HOST)
    vtype = cloud.types.create("iscsi-type")
    cloud.types.set_extra_specs(vtype["id"], {"volume_backend_name": "iscsi"})
    vid = cloud.new_volume(1, volume_type_id=vtype["id"])
    cloud.scheduler_api.create_volume(cloud.ctxt, vid, {}, {})
    volume = cloud.wait_volume(vid, ("available", "error"))
    assert volume["status"] == "available", volume["admin_metadata"]
    assert volume["host"] == ISCSI_HOST + "#iscsi"
    assert volume["provider_auth"].startswith("CHAP ")

    info = cloud.volume_api.initialize_connection(cloud.ctxt, volume["host"], vid,
                                                  {"host": "compute-1"})
    data = info["data"]
    assert info["driver_volume_type"] == "iscsi"
    assert data["target_portal"] == "127.0.0.1:%d" % cloud.tgtd.port
    # QEMU's own iSCSI client logs in with the CHAP credentials and sees the LUN.
    url = "iscsi://%s%%%s@%s/%s/%d" % (data["auth_username"], data["auth_password"],
                                       data["target_portal"], data["target_iqn"],
                                       data["target_lun"])
    seen = subprocess.run(["qemu-img", "info", "--output=json", url], capture_output=True,
                          text=True, timeout=30)
    assert seen.returncode == 0, seen.stderr
    assert json.loads(seen.stdout)["virtual-size"] == GiB
    bad = url.replace(data["auth_password"], "wrong-password1")
    assert subprocess.run(["qemu-img", "info", bad], capture_output=True,
                          timeout=30).returncode != 0

    cloud.volume_api.terminate_connection(cloud.ctxt, volume["host"], vid,
                                          {"host": "compute-1"})
    assert data["target_iqn"] not in cloud.tgtd.targets()
