"""Object store benchmark, against a running proxy (a cloud from ``devstack/stack.sh``:
three replicas on three devices) or a scratch cluster of its own.

    source /opt/stratus/openrc.demo
    python tools/bench/objectstore_bench.py [--seconds 10] [--big-mib 256]
        [--listing 10000] [--concurrency 1,4,16]

or, without keystone, ``--url http://host:8080/v1/AUTH_x --token <token>``.

``--scratch-cluster --replicas 1,3`` (run it with the project's virtualenv python)
measures, once per replica count, a cluster it starts itself under a temporary
directory (``--scratch-dir``): the proxy with tempauth (no keystone) and one account,
container and object server for three directory devices, with rings of that replica
count built by ``stratus-manage objectstore ring`` (the functional tests'
``ObjectStoreCloud``); every process is stopped by its pid at the end. Upstream
Swift's figures are usually for one replica: this compares like with like.

It also reads the CPU time (``/proc/<pid>/stat`` utime + stime) of the object store
daemons (those of the scratch cluster, or every ``stratus-objectstore-*.pid`` of
``--pid-dir``, default ``/opt/stratus/run`` when it exists) before and after each PUT
phase and each way of the large object, and prints milliseconds of CPU per PUT and
per MB per daemon and in total: figures that other load on the machine hardly moves,
unlike PUT/s and MB/s.

Prints PUT, GET and HEAD operations per second for 4 KiB objects at each
concurrency, MB/s of one large object up and down, and the latency of listing a
container of ``--listing`` objects (first page, JSON, median of 5). Each worker
thread keeps one HTTP connection (http.client), so the client costs little; a
plain Python client tops out near 500 requests/s on two cores, which is far above
what a 3-replica write path does here. A figure, not a test: nothing asserts a speed.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SMALL = os.urandom(4096)
_CHUNK = 1024 * 1024


class Conn:
    """One keep-alive connection to the proxy, for one worker thread."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.path = parts.path.rstrip("/")
        self.token = token
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        hdrs = {"X-Auth-Token": self.token, **(headers or {})}
        try:
            self.conn.request(method, self.path + path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        return resp.status, data


class CpuMeter:
    """CPU seconds of the object store daemons (``pids``: daemon name -> pid)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = dict(pids)

    @classmethod
    def from_pid_dir(cls, pid_dir: str) -> CpuMeter:
        """The daemons of the ``stratus-objectstore-*.pid`` files in ``pid_dir``."""
        pids = {}
        for path in sorted(glob.glob(os.path.join(pid_dir, "stratus-objectstore-*.pid"))):
            name = os.path.basename(path)[len("stratus-objectstore-"):-len(".pid")]
            try:
                with open(path) as f:
                    pids[name] = int(f.read().strip())
            except (OSError, ValueError):
                continue
        return cls(pids)

    def sample(self) -> dict[str, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        out = {}
        for name, pid in self.pids.items():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rpartition(")")[2].split()
            except OSError:
                continue
            # fields[0] is the state (field 3): utime and stime are fields 14 and 15
            out[name] = (int(fields[11]) + int(fields[12])) / ticks
        return out

    @staticmethod
    def report(before: dict[str, float], after: dict[str, float], ops: float) -> str:
        """``ms of CPU per op`` per daemon (busy ones) and in total (``ops`` may be a
        number of MB)."""
        if not ops:
            return "no operations"
        per = {n: (after[n] - before[n]) * 1000.0 / ops for n in after if n in before}
        busy = ["%s %.2f" % (n, v) for n, v in sorted(per.items(), key=lambda i: -i[1])
                if v >= 0.005]
        return "total %.2f ms (%s)" % (sum(per.values()), ", ".join(busy))


def _auth(args: argparse.Namespace) -> tuple[str, str]:
    if args.url and args.token:
        return args.url, args.token
    from keystoneauth1 import loading, session

    loader: Any = loading.get_plugin_loader("password")
    auth = loader.load_from_options(
        auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
        password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
        user_domain_name=os.environ.get("OS_USER_DOMAIN_NAME", "Default"),
        project_domain_name=os.environ.get("OS_PROJECT_DOMAIN_NAME", "Default"))
    sess = session.Session(auth=auth)
    url = sess.get_endpoint(service_type="object-store", interface="public")
    return str(url), str(sess.get_token())


def _run(url: str, token: str, workers: int, seconds: float,
         op: Callable[[Conn, int], int]) -> tuple[float, int, int]:
    """Run ``op`` in ``workers`` threads for ``seconds``; ops/s, errors, successes."""
    done = [0] * workers
    errors = [0] * workers
    stop = time.monotonic() + seconds

    def work(n: int) -> None:
        conn = Conn(url, token)
        i = 0
        while time.monotonic() < stop:
            try:
                status = op(conn, n * 1000000 + i)
            except (OSError, http.client.HTTPException):
                status = 599
                conn = Conn(url, token)
            if status >= 300 and status != 304:
                errors[n] += 1
            else:
                done[n] += 1
            i += 1

    start = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - start), sum(errors), sum(done)


def small_objects(url: str, token: str, container: str, workers: int, seconds: float,
                  meter: CpuMeter | None = None) -> dict[str, Any]:
    written: list[int] = []
    lock = threading.Lock()

    def put(conn: Conn, i: int) -> int:
        status, _ = conn.request("PUT", "/%s/o%d" % (container, i), body=SMALL,
                                 headers={"Content-Type": "application/octet-stream"})
        if status == 201:
            with lock:
                written.append(i)
        return status

    before = meter.sample() if meter else {}
    results: dict[str, Any] = {"PUT": _run(url, token, workers, seconds, put)}
    if meter:
        results["PUT cpu"] = meter.report(before, meter.sample(), results["PUT"][2])
    names = list(written) or [0]

    def get(conn: Conn, i: int) -> int:
        return conn.request("GET", "/%s/o%d" % (container, names[i % len(names)]))[0]

    def head(conn: Conn, i: int) -> int:
        return conn.request("HEAD", "/%s/o%d" % (container, names[i % len(names)]))[0]

    results["GET"] = _run(url, token, workers, seconds, get)
    results["HEAD"] = _run(url, token, workers, seconds, head)
    return results


def big_object(url: str, token: str, container: str, mib: int,
               meter: CpuMeter | None = None) -> dict[str, Any]:
    """MB/s up and down of one ``mib`` MiB object (``PUT``, ``GET``), whether it came
    back identical (``same``) and, with a ``meter``, the CPU per MB of each way
    (``PUT cpu``, ``GET cpu``)."""
    block = os.urandom(_CHUNK)
    total = mib * _CHUNK
    conn = Conn(url, token)
    sent = hashlib.md5(usedforsecurity=False)
    results: dict[str, Any] = {}

    def body() -> Iterator[bytes]:
        for _ in range(mib):
            sent.update(block)
            yield block

    before = meter.sample() if meter else {}
    start = time.monotonic()
    conn.conn.putrequest("PUT", conn.path + "/%s/big" % container)
    conn.conn.putheader("X-Auth-Token", token)
    conn.conn.putheader("Content-Length", str(total))
    conn.conn.endheaders()
    for chunk in body():
        conn.conn.send(chunk)
    resp = conn.conn.getresponse()
    resp.read()
    up = time.monotonic() - start
    if resp.status != 201:
        raise SystemExit("big PUT answered %d" % resp.status)
    results["PUT"] = total / up / 1e6
    if meter:
        after = meter.sample()
        results["PUT cpu"] = meter.report(before, after, total / 1e6)
        before = after
    got = hashlib.md5(usedforsecurity=False)
    start = time.monotonic()
    conn.conn.request("GET", conn.path + "/%s/big" % container,
                      headers={"X-Auth-Token": token})
    resp = conn.conn.getresponse()
    while True:
        chunk = resp.read(_CHUNK)
        if not chunk:
            break
        got.update(chunk)
    down = time.monotonic() - start
    results["GET"] = total / down / 1e6
    if meter:
        results["GET cpu"] = meter.report(before, meter.sample(), total / 1e6)
    results["same"] = got.digest() == sent.digest()
    return results


def listing(url: str, token: str, container: str, count: int, workers: int = 16) -> float:
    """Median ms of a JSON listing of a container holding ``count`` objects."""
    names = iter(range(count))
    lock = threading.Lock()

    def fill() -> None:
        conn = Conn(url, token)
        while True:
            with lock:
                i = next(names, None)
            if i is None:
                return
            conn.request("PUT", "/%s/%s" % (container, quote("dir%d/obj%06d" % (i % 10, i))),
                         body=b"x", headers={"Content-Type": "text/plain"})

    threads = [threading.Thread(target=fill) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn = Conn(url, token)
    times = []
    for _ in range(5):
        start = time.monotonic()
        status, data = conn.request("GET", "/%s?format=json" % container)
        times.append((time.monotonic() - start) * 1000)
        if status != 200:
            raise SystemExit("listing answered %d" % status)
    return statistics.median(times)


def bench(url: str, token: str, args: argparse.Namespace, meter: CpuMeter | None,
          label: str) -> None:
    """Every measurement against one proxy; ``label`` says what it is (replicas)."""
    run = uuid.uuid4().hex[:8]
    admin = Conn(url, token)
    print("object store benchmark against %s (%s); load average %s" % (
        url, label, _load()))
    print("%-12s %10s %10s %10s" % ("concurrency", "PUT/s", "GET/s", "HEAD/s"))
    for workers in [int(c) for c in args.concurrency.split(",") if c]:
        container = "bench-%s-c%d" % (run, workers)
        admin.request("PUT", "/" + container)
        res = small_objects(url, token, container, workers, args.seconds, meter)
        errs = sum(res[op][1] for op in ("PUT", "GET", "HEAD"))
        print("%-12d %10.1f %10.1f %10.1f%s   [%s]" % (
            workers, res["PUT"][0], res["GET"][0], res["HEAD"][0],
            "   (%d errors)" % errs if errs else "", label))
        if "PUT cpu" in res:
            print("%-12s CPU per PUT: %s" % ("", res["PUT cpu"]))
    if args.big_mib:
        container = "bench-%s-big" % run
        admin.request("PUT", "/" + container)
        big = big_object(url, token, container, args.big_mib, meter)
        print("%d MiB object: PUT %.0f MB/s, GET %.0f MB/s, identical: %s   [%s]" % (
            args.big_mib, big["PUT"], big["GET"], big["same"], label))
        for way in ("PUT", "GET"):
            if way + " cpu" in big:
                print("%-12s CPU per MB %s: %s" % ("", way, big[way + " cpu"]))
    if args.listing:
        container = "bench-%s-list" % run
        admin.request("PUT", "/" + container)
        ms = listing(url, token, container, args.listing)
        print("listing of %d objects (first page, JSON): %.1f ms (median of 5)   [%s]" % (
            args.listing, ms, label))
    print("(load average now %s; bench containers are named bench-%s-*; delete them "
          "with `stratus objectstore delete`)" % (_load(), run))


def _load() -> str:
    """The machine's load averages (1, 5, 15 min): others' work moves MB/s and ops/s."""
    return " ".join("%.2f" % value for value in os.getloadavg())


def scratch(args: argparse.Namespace, replicas: int) -> None:
    """:func:`bench` against a cluster of ``replicas`` replicas started for it."""
    sys.path.insert(0, REPO)
    from tests.functional.objectstore.conftest import ObjectStoreCloud

    state = tempfile.mkdtemp(prefix="objectstore-bench-", dir=args.scratch_dir)
    # threads=None: the storage servers' default thread counts, as devstack runs them
    cloud = ObjectStoreCloud(state, None, replicas=replicas, threads=None)
    try:
        daemons = {"proxy": cloud.proxy} if cloud.proxy else {}
        daemons.update({kind: daemon for (kind, _dev), daemon in cloud.servers.items()})
        meter = CpuMeter({name: d.proc.pid for name, d in daemons.items()})
        bench(cloud.url + "/v1/" + cloud.demo_account, cloud.token(), args, meter,
              "scratch cluster, %d replica%s" % (replicas, "" if replicas == 1 else "s"))
    finally:
        cloud.stop()
        if args.keep:
            print("(scratch state kept in %s)" % state)
        else:
            shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="storage URL (…/v1/AUTH_x); default from the catalog")
    parser.add_argument("--token", help="token; default from OS_* variables")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--listing", type=int, default=10000)
    parser.add_argument("--pid-dir", default="/opt/stratus/run" if os.path.isdir(
        "/opt/stratus/run") else None, help="where the daemons' pid files are (CPU figures)")
    parser.add_argument("--swift-dir", default="/opt/stratus/data/objectstore" if os.path.isdir(
        "/opt/stratus/data/objectstore") else None,
        help="the cloud's rings (to print the object ring's replica count)")
    parser.add_argument("--scratch-cluster", action="store_true",
                        help="start a cluster of its own (tempauth) instead of using a cloud")
    parser.add_argument("--replicas", default="3",
                        help="with --scratch-cluster: replica counts to measure, e.g. 1,3")
    parser.add_argument("--scratch-dir", default=None,
                        help="with --scratch-cluster: where its temporary state goes")
    parser.add_argument("--keep", action="store_true",
                        help="with --scratch-cluster: keep its state (logs) afterwards")
    args = parser.parse_args()
    if args.scratch_cluster:
        try:
            counts = [int(r) for r in args.replicas.split(",") if r]
        except ValueError:
            parser.error("--replicas takes replica counts, e.g. 1,3")
        if not counts or any(not 1 <= r <= 3 for r in counts):
            parser.error("--replicas: each count must be 1, 2 or 3 (three devices)")
        for replicas in counts:
            scratch(args, replicas)
        return
    url, token = _auth(args)
    meter = CpuMeter.from_pid_dir(args.pid_dir) if args.pid_dir else None
    bench(url, token, args, meter, _ring_label(args.swift_dir))


def _ring_label(swift_dir: str | None) -> str:
    """``N replicas`` of the object ring in ``swift_dir`` (the cloud's, when it is
    on this machine), for the printed figures."""
    if not swift_dir:
        return "replicas unknown (no --swift-dir)"
    sys.path.insert(0, REPO)
    from objectstore.common.ring import ring

    try:
        count = ring.Ring(swift_dir, "object").replica_count
    except (OSError, ring.RingLoadError) as err:
        return "replicas unknown (%s)" % err
    return "%d replica%s" % (count, "" if count == 1 else "s")


if __name__ == "__main__":
    main()
