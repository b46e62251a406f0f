"""Block storage benchmark, against a cloud from ``devstack/stack.sh`` (file driver).

    source /opt/stratus/openrc.demo
    python tools/bench/blockstorage_bench.py [--volumes 100] [--size 1]
        [--volumes-dir /opt/stratus/data/blockstorage/volumes] [--no-backup]
        [--run-dir /opt/stratus/run]

Creates ``--volumes`` volumes of ``--size`` GiB, all requests sent at once (8
client threads), and prints the create-to-available time (from the POST until a
listing shows the volume ``available``) as p50/p90/p99, then deletes them. With
the daemons on this host (pid files ``stratus-blockstorage-*.pid`` in
``--run-dir``), it also prints the CPU time (user + system, from
``/proc/<pid>/stat``) each block storage daemon spent from the first POST until
the last volume was ``available``, in ms per volume: unlike the latencies, that
figure barely moves when other work loads the machine. (The API's share
includes the bench's own listings, one every 50 ms or so.) Then
the backup figures: one volume is filled with random data on disk (the bench runs
on the volume host: it writes the file under ``--volumes-dir`` directly, so the
backup does not just compress zeros), backed up to the object store and restored
into a new volume, each timed until ``available``, and printed as MB/s. A figure,
not a test: nothing asserts a speed.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import glob
import os
import statistics
import time
import uuid
from typing import Any

from keystoneauth1 import loading, session

GiB = 1024 ** 3
HEADERS = {"OpenStack-API-Version": "volume 3.0"}


def _session() -> Any:
    auth = loading.get_plugin_loader("password").load_from_options(
        auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
        password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
        user_domain_name=os.environ.get("OS_USER_DOMAIN_NAME", "Default"),
        project_domain_name=os.environ.get("OS_PROJECT_DOMAIN_NAME", "Default"))
    return session.Session(auth=auth)


class Client:
    def __init__(self) -> None:
        self.sess = _session()
        self.ep = {"service_type": "block-storage", "interface": "public"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.sess.request(path, method, endpoint_filter=self.ep, headers=HEADERS,
                                 raise_exc=False, **kwargs)
        if resp.status_code >= 400:
            raise SystemExit("%s %s answered %d: %s" % (method, path, resp.status_code,
                                                        resp.text[:300]))
        return resp.json() if resp.content else {}

    def statuses(self, prefix: str) -> dict[str, str]:
        found = self.call("GET", "/volumes/detail?limit=1000&name~=%s" % prefix)
        return {v["id"]: v["status"] for v in found["volumes"]
                if (v.get("name") or "").startswith(prefix)}

    def wait(self, path: str, key: str, want: str, timeout: float = 1800) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            status = self.call("GET", path)[key]["status"]
            if status == want:
                return time.monotonic() - start
            if status.startswith("error"):
                raise SystemExit("%s went to %s" % (path, status))
            time.sleep(0.2)
        raise SystemExit("%s not %s after %d s" % (path, want, timeout))


def daemon_pids(run_dir: str) -> dict[str, int]:
    """The block storage daemons running on this host: short name -> pid."""
    pids = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "stratus-blockstorage-*.pid"))):
        name = os.path.basename(path)[len("stratus-blockstorage-"):-len(".pid")]
        try:
            with open(path) as pid_file:
                pids[name] = int(pid_file.read().strip())
        except (OSError, ValueError):
            continue
    return pids


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (None when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3 of stat(5), utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CPUMeter:
    """CPU time of some processes between :meth:`start` and :meth:`stop`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before: dict[str, float | None] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        for name, pid in self.pids.items():
            before, after = self.before.get(name), cpu_seconds(pid)
            if before is not None and after is not None:
                self.used[name] = after - before

    def report(self, count: int) -> str:
        if not self.used:
            return "CPU per volume: no block storage daemon found on this host"
        parts = ["%s %.1f ms" % (name, seconds * 1000 / count)
                 for name, seconds in sorted(self.used.items())]
        return "CPU per volume: " + ", ".join(parts) + " (total %.1f ms)" % (
            sum(self.used.values()) * 1000 / count)


def creates(client: Client, count: int, size: int,
            meter: CPUMeter | None = None) -> list[float]:
    prefix = "bench-%s-" % uuid.uuid4().hex[:6]
    sent: dict[str, float] = {}
    done: dict[str, float] = {}

    def create(n: int) -> None:
        start = time.monotonic()
        body = {"volume": {"size": size, "name": "%s%03d" % (prefix, n)}}
        volume = client.call("POST", "/volumes", json=body)["volume"]
        sent[volume["id"]] = start

    try:
        if meter is not None:
            meter.start()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(count)))
        deadline = time.monotonic() + 600
        while len(done) < count and time.monotonic() < deadline:
            now = time.monotonic()
            for vid, status in client.statuses(prefix).items():
                if vid in done:
                    continue
                if status == "available":
                    done[vid] = now - sent[vid]
                elif status.startswith("error"):
                    raise SystemExit("volume %s went to %s" % (vid, status))
            time.sleep(0.05)
        if meter is not None:
            meter.stop()
    finally:
        for vid in list(sent):
            client.sess.request("/volumes/%s" % vid, "DELETE", endpoint_filter=client.ep,
                                headers=HEADERS, raise_exc=False)
    if len(done) < count:
        raise SystemExit("only %d of %d volumes became available" % (len(done), count))
    return sorted(done.values())


def _pct(values: list[float], pct: float) -> float:
    return values[min(len(values) - 1, int(round(pct / 100 * (len(values) - 1))))]


def backup_restore(client: Client, size: int, volumes_dir: str) -> tuple[float, float]:
    volume = client.call("POST", "/volumes", json={"volume": {
        "size": size, "name": "bench-backup"}})["volume"]
    client.wait("/volumes/%s" % volume["id"], "volume", "available")
    path = os.path.join(volumes_dir, "volume-%s" % volume["id"])
    with open(path, "r+b") as data:  # random bytes: the backup cannot just skip zeros
        block = os.urandom(4 * 1024 * 1024)
        for _ in range(size * GiB // len(block)):
            data.write(block)
    backup = client.call("POST", "/backups", json={"backup": {
        "volume_id": volume["id"], "name": "bench"}})["backup"]
    up = client.wait("/backups/%s" % backup["id"], "backup", "available")
    restore = client.call("POST", "/backups/%s/restore" % backup["id"],
                          json={"restore": {"name": "bench-restored"}})["restore"]
    down = client.wait("/volumes/%s" % restore["volume_id"], "volume", "available")
    for path in ("/volumes/%s" % restore["volume_id"], "/backups/%s" % backup["id"]):
        client.call("DELETE", path)
    client.wait("/volumes/%s" % volume["id"], "volume", "available")
    client.call("DELETE", "/volumes/%s" % volume["id"])
    return size * GiB / up / 1e6, size * GiB / down / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=100)
    parser.add_argument("--size", type=int, default=1)
    parser.add_argument("--volumes-dir", default="/opt/stratus/data/blockstorage/volumes")
    parser.add_argument("--no-backup", action="store_true")
    parser.add_argument("--run-dir", default="/opt/stratus/run",
                        help="where the daemons' pid files are (for the CPU figures)")
    args = parser.parse_args()
    client = Client()
    meter = CPUMeter(daemon_pids(args.run_dir))
    times = creates(client, args.volumes, args.size, meter)
    print("%d volumes of %d GiB, create-to-available: p50 %.2f s, p90 %.2f s, p99 %.2f s, "
          "max %.2f s (mean %.2f s)" % (args.volumes, args.size, _pct(times, 50),
                                       _pct(times, 90), _pct(times, 99), times[-1],
                                       statistics.mean(times)))
    print(meter.report(args.volumes))
    if not args.no_backup:
        up, down = backup_restore(client, args.size, args.volumes_dir)
        print("backup of a %d GiB volume of random data: %.0f MB/s; restore into a new "
              "volume: %.0f MB/s" % (args.size, up, down))


if __name__ == "__main__":
    main()
