#!/usr/bin/env python3
"""Image benchmark: upload and download MB/s, and list latency with many images.

Starts ``stratus-identity-api``, ``stratus-image-registry`` and
``stratus-image-api`` on scratch state (SQLite, the file store, a RabbitMQ vhost
of their own, made with ``rabbitmqctl``), then prints:

- upload MB/s of a ``--size``-MiB image (PUT /v2/images/{id}/file streamed from
  memory, sized and chunked), download MB/s (GET .../file, streamed and
  discarded), wall time per transfer, best and median of ``--rounds``;
- list latency (p50/p90 of ``--requests`` GET /v2/images?limit=1000) with
  ``--images`` images in the registry;
- the daemons' memory.

Prints figures; asserts nothing. The issue's aim: >= 300 MB/s each way on
loopback, and a 1,000-image list p50 < 100 ms.

    python tools/bench/image_bench.py [--size 256] [--rounds 3] [--images 1000]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any, Iterator

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)

from tests.functional import conftest as fx  # noqa: E402

MIB = 1048576


class _Body:
    """``size`` MiB of one random MiB repeated: sized (Content-Length) unless
    ``chunked``, in which case requests sends Transfer-Encoding: chunked."""

    def __init__(self, size_mib: int, chunked: bool) -> None:
        self.block = os.urandom(MIB)
        self.size_mib = size_mib
        self.chunked = chunked

    def __len__(self) -> int:
        return 0 if self.chunked else self.size_mib * MIB

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.size_mib):
            yield self.block


def rss_mb(pid: int) -> float:
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def create(http: requests.Session, url: str, name: str) -> str:
    resp = http.post(url + "/v2/images", json={"name": name, "disk_format": "raw",
                                               "container_format": "bare"})
    resp.raise_for_status()
    return str(resp.json()["id"])


def upload(http: requests.Session, url: str, size_mib: int, chunked: bool) -> tuple[float, str]:
    image_id = create(http, url, "bench-upload")
    body: Any = _Body(size_mib, chunked)
    if chunked:
        body = iter(body)
    start = time.monotonic()
    resp = http.put(url + "/v2/images/%s/file" % image_id, data=body,
                    headers={"Content-Type": "application/octet-stream"})
    elapsed = time.monotonic() - start
    if resp.status_code not in (200, 201, 204):
        raise RuntimeError("upload answered %s: %s" % (resp.status_code, resp.text[:300]))
    return elapsed, image_id


def download(http: requests.Session, url: str, image_id: str) -> tuple[float, int]:
    start = time.monotonic()
    got = 0
    with http.get(url + "/v2/images/%s/file" % image_id, stream=True) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_content(MIB):
            got += len(chunk)
    return time.monotonic() - start, got


def rate(size_mib: int, seconds: float) -> str:
    return "%7.1f MB/s (%5.2f s)" % (size_mib * MIB / 1e6 / seconds, seconds)


def transfers(http: requests.Session, url: str, size_mib: int, rounds: int) -> None:
    print("%-34s %26s %26s" % ("transfer (%d MiB)" % size_mib, "best", "median"))
    for label, chunked in (("upload, Content-Length", False), ("upload, chunked", True)):
        times = []
        ids = []
        for _ in range(rounds):
            elapsed, image_id = upload(http, url, size_mib, chunked)
            times.append(elapsed)
            ids.append(image_id)
        print("%-34s %26s %26s" % (label, rate(size_mib, min(times)),
                                   rate(size_mib, statistics.median(times))))
        if not chunked:
            keep = ids.pop()
        for image_id in ids:
            http.delete(url + "/v2/images/%s" % image_id)
    times = []
    for _ in range(rounds):
        elapsed, got = download(http, url, keep)
        if got != size_mib * MIB:
            print("  download returned %d bytes, expected %d" % (got, size_mib * MIB))
        times.append(elapsed)
    print("%-34s %26s %26s" % ("download", rate(size_mib, min(times)),
                               rate(size_mib, statistics.median(times))))
    http.delete(url + "/v2/images/%s" % keep)


def listing(http: requests.Session, url: str, count: int, requests_n: int,
            token: str) -> None:
    start = time.monotonic()
    have = len(http.get(url + "/v2/images?limit=1000").json()["images"])

    def one(i: int) -> None:
        with requests.Session() as own:
            own.headers["X-Auth-Token"] = token
            create(own, url, "bench-list-%05d" % i)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(have, count)))
    made = max(count - have, 0)
    print("created %d images in %.1f s (%.1f/s, 8 clients)" % (
        made, time.monotonic() - start, made / max(time.monotonic() - start, 1e-6)))
    for limit in (1000, 25):
        samples = []
        returned = 0
        for _ in range(requests_n):
            t0 = time.monotonic()
            resp = http.get(url + "/v2/images?limit=%d" % limit)
            samples.append((time.monotonic() - t0) * 1000)
            resp.raise_for_status()
            returned = len(resp.json()["images"])
        samples.sort()
        p50 = statistics.median(samples)
        p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
        print("list limit=%-5d (%4d returned) p50 %7.1f ms  p90 %7.1f ms  (%d requests)"
              % (limit, returned, p50, p90, requests_n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="image size in MiB")
    parser.add_argument("--rounds", type=int, default=3, help="transfers of each kind")
    parser.add_argument("--images", type=int, default=1000, help="images for the list test")
    parser.add_argument("--requests", type=int, default=50, help="list requests timed")
    args = parser.parse_args()
    if not shutil.which("rabbitmqctl"):
        sys.exit("rabbitmqctl is needed (the benchmark's daemons get a RabbitMQ vhost of "
                 "their own): run it as root where RabbitMQ runs")
    state = tempfile.mkdtemp(prefix="image-bench-")
    identity = image = None
    try:
        identity = fx.IdentityCloud(os.path.join(state, "identity"))
        image = fx.ImageCloud(os.path.join(state, "image"), identity, registry_timeout=30)
        assert image.api is not None and image.registry is not None
        pids = {"image-api": image.api.proc.pid, "image-registry": image.registry.proc.pid}
        token = image.token()
        http = requests.Session()
        http.headers["X-Auth-Token"] = token
        print("image API %s (pid %d), registry pid %d, file store %s"
              % (image.url, pids["image-api"], pids["image-registry"], image.datadir))
        print("idle RSS: " + ", ".join("%s %.1f MB" % (k, rss_mb(v)) for k, v in pids.items()))
        transfers(http, image.url, args.size, args.rounds)
        print("RSS after transfers: " + ", ".join("%s %.1f MB" % (k, rss_mb(v))
                                                  for k, v in pids.items()))
        listing(http, image.url, args.images, args.requests, token)
        print("RSS after listing: " + ", ".join("%s %.1f MB" % (k, rss_mb(v))
                                                for k, v in pids.items()))
    finally:
        if image is not None:
            image.stop()
        if identity is not None:
            identity.daemon.stop()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
