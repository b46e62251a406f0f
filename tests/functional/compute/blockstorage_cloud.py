"""A block storage service of real daemons for the compute functional tests.

:class:`BlockStorageCloud` runs ``stratus-blockstorage-api``, ``-scheduler``
and ``-volume`` (the file driver, the volume's path handed to compute: file
target) on scratch state under one directory, configured as
devstack/lib/blockstorage.sh configures them, on a RabbitMQ vhost of its own,
registered in ``identity``'s catalog as ``volumev3`` (the type compute looks
for) with a service user ``cinder``. It fetches images from the image service
that is in that catalog. Every daemon is stopped by its pid; the vhost is
deleted.
"""
from __future__ import annotations

import os
import time
from typing import Any

from tests.functional.conftest import (
    Daemon, IdentityCloud, RabbitVhost, _tail, admin_session, free_port, register_service,
    script, wait_http)

CINDER_PASSWORD = "cinder-pw"
BACKEND = "file"


class BlockStorageCloud:
    """Block storage (api, scheduler, one file backend) for ``identity``, under ``state``."""

    def __init__(self, state: str, identity: IdentityCloud, debug: bool = True) -> None:
        self.state = state
        self.identity = identity
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.volumes_dir = os.path.join(state, "volumes")
        self.daemons: dict[str, Daemon] = {}
        self.vhost: RabbitVhost | None = None
        try:
            self.vhost = RabbitVhost()
            register_service(identity, "volumev3", "cinderv3",
                             self.url + "/v3/%(project_id)s", "cinder", CINDER_PASSWORD)
            self.conf = self._write_conf(debug)
            self._db_sync()
            for name in ("scheduler", "volume", "api"):
                self._start(name)
            wait_http(self.url + "/healthcheck", proc=self.daemons["api"].proc,
                      log=self.daemons["api"].log)
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _write_conf(self, debug: bool) -> str:
        etc = os.path.join(self.state, "etc")
        os.makedirs(etc, exist_ok=True)
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))))
        with open(os.path.join(repo, "etc", "blockstorage", "api-paste.ini")) as src:
            paste = src.read()
        with open(os.path.join(etc, "api-paste.ini"), "w") as dst:
            dst.write(paste)
        ident = self.identity.url
        assert self.vhost is not None
        creds = ["auth_url = %s" % ident, "auth_type = password", "username = cinder",
                 "password = %s" % CINDER_PASSWORD, "project_name = service",
                 "user_domain_name = Default", "project_domain_name = Default"]
        lines = [
            "[DEFAULT]", "state_path = %s" % self.state,
            "transport_url = %s" % self.vhost.transport_url, "host = bs-node",
            "debug = %s" % debug, "report_interval = 1",
            "default_volume_type = __DEFAULT__", "storage_availability_zone = nova",
            "[api]", "bind_host = 127.0.0.1", "bind_port = %d" % self.port,
            "public_endpoint = %s" % self.url,
            "[volume]", "volume_driver = file", "backend_name = %s" % BACKEND,
            "report_interval = 1", "file_volumes_dir = %s" % self.volumes_dir,
            "file_volume_format = raw",
            "image_conversion_dir = %s" % os.path.join(self.state, "conversion"),
            "target_protocol = file", "target_ip_address = 127.0.0.1",
            "[keystone_authtoken]", "www_authenticate_uri = %s" % ident, *creds,
            "[service_user]", *creds, "region_name = RegionOne",
            "[glance]", "region_name = RegionOne", "valid_interfaces = internal,public"]
        path = os.path.join(etc, "blockstorage.conf")
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    def _db_sync(self) -> None:
        import subprocess

        result = subprocess.run([script("stratus-manage"), "blockstorage", "--config-file",
                                 self.conf, "db", "sync"], capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 0:
            raise RuntimeError("stratus-manage blockstorage db sync failed:\n%s%s"
                               % (result.stdout, result.stderr))

    def _start(self, name: str) -> None:
        log = os.path.join(self.state, "blockstorage-%s.log" % name)
        self.daemons[name] = Daemon([script("stratus-blockstorage-" + name), "--config-file",
                                     self.conf, "--log-file", log], log)

    def api(self, sess: Any) -> Any:
        """A keystoneauth Adapter on the block storage endpoint (raise_exc=False)."""
        from keystoneauth1 import adapter

        return adapter.Adapter(sess, service_type="volumev3", interface="public",
                               region_name="RegionOne", raise_exc=False)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the API lists the default volume type and shows the volume daemon up."""
        api = self.api(admin_session(self.identity))
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            self.check_alive()
            types = api.get("/types")
            services = api.get("/os-services")
            if types.status_code == 200 and services.status_code == 200:
                seen = services.text
                names = {t["name"] for t in types.json()["volume_types"]}
                up = {s["binary"] for s in services.json()["services"] if s["state"] == "up"}
                if "__DEFAULT__" in names and any(b.endswith("-volume") for b in up):
                    return
            else:
                seen = "%s %s" % (types.status_code, types.text[:200])
            time.sleep(0.3)
        raise RuntimeError("block storage not ready after %ss (%s)\n%s" % (timeout, seen,
                                                                         self.logs()))

    def check_alive(self) -> None:
        for name, daemon in self.daemons.items():
            if daemon.proc.poll() is not None:
                raise RuntimeError("blockstorage-%s exited (%s)\n%s" % (
                    name, daemon.proc.returncode, self.logs()))

    def logs(self, size: int = 3000) -> str:
        return "\n".join(_tail(d.log, size) + "\n" + _tail(d.log + ".stdout", 1000)
                         for d in self.daemons.values())

    def stop(self) -> None:
        for daemon in self.daemons.values():
            daemon.stop()
        if self.vhost is not None:
            self.vhost.delete()
