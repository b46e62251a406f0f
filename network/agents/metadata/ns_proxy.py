"""The metadata proxy of one router (or network) namespace.

Started by the L3 agent as ``ip netns exec qrouter-<id> <python> -m
network.agents.metadata.ns_proxy --router-id <id> --socket <path> --port 9697
--pid-file <file>``: it listens on the port inside the namespace (where the
router redirects 169.254.169.254:80), daemonises (the command returns once the
pid file is written) and forwards every request to the metadata agent's UNIX
socket with ``X-Forwarded-For`` (the guest's address) and
``X-Neutron-Router-ID`` (or ``X-Neutron-Network-ID``) added.

Standard library only, and nothing of the project imported: one runs per router,
so it must stay small.
"""
from __future__ import annotations

import argparse
import http.client
import http.server
import os
import socket
import sys
from typing import Any

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailers", "transfer-encoding", "upgrade", "host",
              "x-forwarded-for", "x-neutron-router-id", "x-neutron-network-id"}
MAX_BODY = 1024 * 1024


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a UNIX stream socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: ProxyServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        self._forward()

    def do_HEAD(self) -> None:  # noqa: N802
        self._forward()

    def do_POST(self) -> None:  # noqa: N802
        self._forward()

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413, b"Request body too large\n")
            return
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        headers[self.server.id_header] = self.server.resource_id
        conn = UnixHTTPConnection(self.server.socket_path, self.server.timeout_s)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as err:
            self.log_message("metadata agent unreachable at %s: %s", self.server.socket_path,
                             err)
            self._reply(503, b"The metadata service is unavailable, try again later.\n")
            return
        finally:
            conn.close()
        self.send_response(resp.status, resp.reason)
        for key, value in resp.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _reply(self, status: int, text: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(text)


class ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], socket_path: str, id_header: str,
                 resource_id: str, timeout: float) -> None:
        self.socket_path = socket_path
        self.id_header = id_header
        self.resource_id = resource_id
        self.timeout_s = timeout
        super().__init__(address, ProxyHandler)


def parse(argv: list[str]) -> Any:
    parser = argparse.ArgumentParser(prog="stratus-metadata-ns-proxy",
                                     description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--router-id")
    which.add_argument("--network-id")
    parser.add_argument("--socket", required=True, help="the metadata agent's socket")
    parser.add_argument("--port", type=int, default=9697)
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--log-file", default=os.devnull)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--foreground", action="store_true")
    return parser.parse_args(argv)


def _daemonize(pid_file: str, log_file: str) -> None:
    """Double fork; the original process exits 0 once the pid file is written."""
    read_end, write_end = os.pipe()
    if os.fork() > 0:
        os.close(write_end)
        ok = os.read(read_end, 1)
        os._exit(0 if ok == b"1" else 1)
    os.close(read_end)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    tmp = pid_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % os.getpid())
    os.replace(tmp, pid_file)
    log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.write(write_end, b"1")
    os.close(write_end)


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    header, resource = (("X-Neutron-Router-ID", args.router_id) if args.router_id
                        else ("X-Neutron-Network-ID", args.network_id))
    # Bound before daemonising: a busy port fails the command, not a lost child.
    server = ProxyServer((args.bind, args.port), args.socket, header, resource, args.timeout)
    if not args.foreground:
        _daemonize(args.pid_file, args.log_file)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
