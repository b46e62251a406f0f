"""Object store benchmark, against a running proxy (a cloud from ``devstack/stack.sh``:
three replicas on three devices).

    source /opt/stratus/openrc.demo
    python tools/bench/objectstore_bench.py [--seconds 10] [--big-mib 256]
        [--listing 10000] [--concurrency 1,4,16]

or, without keystone, ``--url http://host:8080/v1/AUTH_x --token <token>``.

With ``--pid-dir`` (default ``/opt/stratus/run`` when it exists) it also reads the CPU
time (``/proc/<pid>/stat`` utime + stime) of every ``stratus-objectstore-*.pid`` daemon
before and after each PUT phase and prints milliseconds of CPU per PUT per daemon and
in total: a figure that other load on the machine hardly moves, unlike PUT/s.

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
import statistics
import threading
import time
import uuid
from typing import Any, Callable
from urllib.parse import quote, urlsplit

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
    """CPU seconds of the object store daemons, from their pid files."""

    def __init__(self, pid_dir: str | None) -> None:
        self.pids: dict[str, int] = {}
        for path in sorted(glob.glob(os.path.join(pid_dir or "", "stratus-objectstore-*.pid"))):
            name = os.path.basename(path)[len("stratus-objectstore-"):-len(".pid")]
            try:
                with open(path) as f:
                    self.pids[name] = int(f.read().strip())
            except (OSError, ValueError):
                continue

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
    def report(before: dict[str, float], after: dict[str, float], ops: int) -> str:
        """``ms of CPU per op`` per daemon (busy ones) and in total."""
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


def big_object(url: str, token: str, container: str, mib: int) -> tuple[float, float, bool]:
    """MB/s up and down of one ``mib`` MiB object; whether it came back identical."""
    block = os.urandom(_CHUNK)
    total = mib * _CHUNK
    conn = Conn(url, token)
    sent = hashlib.md5(usedforsecurity=False)

    def body() -> Any:
        for _ in range(mib):
            sent.update(block)
            yield block

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
    return total / up / 1e6, total / down / 1e6, got.digest() == sent.digest()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="storage URL (…/v1/AUTH_x); default from the catalog")
    parser.add_argument("--token", help="token; default from OS_* variables")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--listing", type=int, default=10000)
    parser.add_argument("--pid-dir", default="/opt/stratus/run" if os.path.isdir(
        "/opt/stratus/run") else None, help="where the daemons' pid files are (CPU per PUT)")
    args = parser.parse_args()
    url, token = _auth(args)
    meter = CpuMeter(args.pid_dir) if args.pid_dir else None
    run = uuid.uuid4().hex[:8]
    admin = Conn(url, token)
    print("object store benchmark against %s" % url)
    print("%-12s %10s %10s %10s" % ("concurrency", "PUT/s", "GET/s", "HEAD/s"))
    for workers in [int(c) for c in args.concurrency.split(",")]:
        container = "bench-%s-c%d" % (run, workers)
        admin.request("PUT", "/" + container)
        res = small_objects(url, token, container, workers, args.seconds, meter)
        errs = sum(res[op][1] for op in ("PUT", "GET", "HEAD"))
        print("%-12d %10.1f %10.1f %10.1f%s" % (
            workers, res["PUT"][0], res["GET"][0], res["HEAD"][0],
            "   (%d errors)" % errs if errs else ""))
        if "PUT cpu" in res:
            print("%-12s CPU per PUT: %s" % ("", res["PUT cpu"]))
    if args.big_mib:
        container = "bench-%s-big" % run
        admin.request("PUT", "/" + container)
        up, down, same = big_object(url, token, container, args.big_mib)
        print("%d MiB object: PUT %.0f MB/s, GET %.0f MB/s, identical: %s" % (
            args.big_mib, up, down, same))
    if args.listing:
        container = "bench-%s-list" % run
        admin.request("PUT", "/" + container)
        ms = listing(url, token, container, args.listing)
        print("listing of %d objects (first page, JSON): %.1f ms (median of 5)" % (
            args.listing, ms))
    print("(bench containers are named bench-%s-*; delete them with "
          "`stratus objectstore delete`)" % run)


if __name__ == "__main__":
    main()
