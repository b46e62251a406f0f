"""bcrypt in helper processes, so that a password check (which holds the GIL for
its whole run) never stalls the API's other threads.

Each helper is ``python -m identity.service.hashworker``: it imports bcrypt only
(about 12 MB) and answers one JSON line per request on stdin/stdout. Helpers are
started on first use, at most ``size`` of them, and replaced when they die.
"""
from __future__ import annotations

import base64
import json
import queue
import subprocess
import sys
import threading
from typing import Any


class HelperPool:
    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._idle: "queue.Queue[subprocess.Popen[bytes]]" = queue.Queue()
        self._started = 0
        self._lock = threading.Lock()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "identity.service.hashworker"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                close_fds=True)

    def _take(self) -> subprocess.Popen[bytes]:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._started < self.size:
                self._started += 1
                return self._spawn()
        return self._idle.get()

    def call(self, op: str, *args: bytes | int) -> Any:
        """Run ``op`` ("hash" or "check") in a helper and return its answer."""
        enc = [base64.b64encode(a).decode() if isinstance(a, bytes) else a for a in args]
        proc = self._take()
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps([op, *enc]).encode() + b"\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if not line:
                raise OSError("password helper exited")
        except (OSError, ValueError):
            proc.kill()
            proc.wait()
            with self._lock:
                self._started -= 1
            raise
        self._idle.put(proc)
        answer = json.loads(line)
        if "error" in answer:
            raise ValueError(answer["error"])
        return answer["result"]

    def close(self) -> None:
        while True:
            try:
                proc = self._idle.get_nowait()
            except queue.Empty:
                return
            proc.kill()
            proc.wait()


def _serve() -> None:
    import bcrypt

    for line in sys.stdin.buffer:
        try:
            op, *args = json.loads(line)
            if op == "hash":
                result: Any = bcrypt.hashpw(base64.b64decode(args[0]),
                                            bcrypt.gensalt(int(args[1]))).decode()
            else:
                result = bcrypt.checkpw(base64.b64decode(args[0]), base64.b64decode(args[1]))
            out: dict[str, Any] = {"result": result}
        except (ValueError, TypeError, IndexError) as err:
            out = {"error": str(err)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
