#!/usr/bin/env python3
"""Identity benchmark: token issue and validate rates, and the daemon's memory.

Starts one ``stratus-identity-api`` process on a scratch SQLite database (or uses
``--url`` with ``--pid``), drives it with ``wrk`` at concurrency 1, 4 and 16, and
prints requests/s and latency next to the ceiling: a trivial threaded WSGI app
served by the same server module. Prints figures; asserts nothing.

    python tools/bench/identity_bench.py [--duration 10] [--rounds 12]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)

from tests.functional import conftest as fx  # noqa: E402

CONCURRENCY = (1, 4, 16)
TRIVIAL = """
import socketserver, sys, time
from wsgiref import simple_server
from common.wsgi import server
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"OK"]
class Quiet(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass
class Threaded(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
if sys.argv[2] == "wsgiref":
    simple_server.make_server("127.0.0.1", int(sys.argv[1]), app, Threaded,
                              Quiet).serve_forever()
srv = server.Server(app, "127.0.0.1", int(sys.argv[1]), threads=16)
srv.start()
while True:
    time.sleep(3600)
"""


def rss_mb(pid: int) -> float:
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def helpers_rss_mb(pid: int) -> float:
    """RSS of the daemon's descendants (the password-hashing helper processes)."""
    total = 0.0
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.split("\n"):
        if line.strip():
            child, parent = (int(x) for x in line.split())
            children.setdefault(parent, []).append(child)
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        try:
            total += rss_mb(child)
        except OSError:
            continue
        pending.extend(children.get(child, []))
    return total


def wrk(url: str, conns: int, seconds: int, script: str | None = None) -> dict[str, float]:
    threads = min(conns, 2)
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency"]
    if script:
        argv += ["-s", script]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": rate, "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else 0.0,
            "errors": float(errors.group(1)) if errors else 0.0}


def lua(path: str, method: str, headers: dict[str, str], body: str | None = None) -> str:
    lines = ['wrk.method = "%s"' % method]
    for key, value in headers.items():
        lines.append('wrk.headers["%s"] = "%s"' % (key, value))
    if body is not None:
        lines.append("wrk.body = [[%s]]" % body)
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def issue_token(url: str) -> str:
    body = json.dumps(auth_body()).encode()
    req = urllib.request.Request(url + "/v3/auth/tokens", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return str(resp.headers["X-Subject-Token"])


def auth_body() -> dict[str, object]:
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": fx.ADMIN_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}


def start_cloud(state: str, rounds: int) -> fx.IdentityCloud:
    cloud = fx.IdentityCloud.__new__(fx.IdentityCloud)
    cloud.port = fx.free_port()
    cloud.url = "http://127.0.0.1:%d" % cloud.port
    cloud.auth_url = cloud.url + "/v3"
    cloud.conf = fx.write_identity_conf(state, cloud.port, None)
    with open(cloud.conf) as handle:
        text = handle.read().replace("password_hash_rounds = 4",
                                     "password_hash_rounds = %d" % rounds)
    with open(cloud.conf, "w") as handle:
        handle.write(text)
    fx.manage(cloud.conf, "db", "sync")
    fx.manage(cloud.conf, "fernet-setup")
    fx.manage(cloud.conf, "bootstrap", "--bootstrap-password", fx.ADMIN_PASSWORD,
              "--bootstrap-public-url", cloud.auth_url)
    cloud.daemon = fx.Daemon([fx.script("stratus-identity-api"), "--config-file", cloud.conf],
                             os.path.join(state, "identity-api.log"))
    fx.wait_http(cloud.url + "/healthcheck", proc=cloud.daemon.proc)
    return cloud


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=12, help="bcrypt cost of the admin")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk)")
    state = tempfile.mkdtemp(prefix="identity-bench-")
    cloud = start_cloud(state, args.rounds)
    trivial_port, stdlib_port = fx.free_port(), fx.free_port()
    trivial = subprocess.Popen([sys.executable, "-c", TRIVIAL, str(trivial_port), "cheroot"],
                               cwd=REPO)
    stdlib = subprocess.Popen([sys.executable, "-c", TRIVIAL, str(stdlib_port), "wsgiref"],
                              cwd=REPO)
    try:
        fx.wait_http("http://127.0.0.1:%d/" % trivial_port)
        fx.wait_http("http://127.0.0.1:%d/" % stdlib_port)
        pid = cloud.daemon.proc.pid
        print("stratus-identity-api pid %d, bcrypt cost %d, %ds per run"
              % (pid, args.rounds, args.duration))
        time.sleep(1)
        print("idle RSS: %.1f MB" % rss_mb(pid))
        token = issue_token(cloud.url)
        validate = lua(os.path.join(state, "validate.lua"), "GET",
                       {"X-Auth-Token": token, "X-Subject-Token": token})
        issue = lua(os.path.join(state, "issue.lua"), "POST",
                    {"Content-Type": "application/json"}, json.dumps(auth_body()))
        peak = 0.0
        print("%-28s %6s %10s %9s %7s" % ("test", "conc", "req/s", "p50 ms", "non2xx"))
        for name, url, script in (
                ("trivial app, wsgiref thread", "http://127.0.0.1:%d/" % stdlib_port, None),
                ("trivial app, our server", "http://127.0.0.1:%d/" % trivial_port, None),
                ("token validate (GET)", cloud.url + "/v3/auth/tokens", validate),
                ("token issue (password)", cloud.url + "/v3/auth/tokens", issue)):
            for conns in CONCURRENCY:
                result = wrk(url, conns, args.duration, script)
                if "trivial" not in name:
                    peak = max(peak, rss_mb(pid))
                print("%-28s %6d %10.1f %9.2f %7d" % (name, conns, result["rate"],
                                                      result["p50_ms"], result["errors"]))
        print("RSS under load (peak sampled): %.1f MB; after: %.1f MB" % (peak, rss_mb(pid)))
        print("password helper processes (bcrypt): %.1f MB"
              % helpers_rss_mb(pid))
    finally:
        for proc in (trivial, stdlib):
            proc.terminate()
            proc.wait()
        cloud.daemon.stop()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
