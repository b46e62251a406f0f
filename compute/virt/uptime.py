"""A host's uptime as ``uptime(1)`` prints it, for ``os-hypervisors/{id}/uptime``:
``" 17:01:02 up 3 days,  2:03,  1 user,  load average: 0.10, 0.20, 0.30"``.

:func:`format_line` builds the line from its parts (the fake driver uses it with
its own start time); :func:`host_line` reads them from this Linux host:
``/proc/uptime``, ``/proc/loadavg`` and the login records of ``/run/utmp``
(no file, as in most containers, counts no users), without running a program.
"""
from __future__ import annotations

import struct
import time
from collections.abc import Sequence

PROC_UPTIME = "/proc/uptime"
PROC_LOADAVG = "/proc/loadavg"
UTMP = "/run/utmp"
# glibc's struct utmp on Linux: 384 bytes, ut_type (a short) first, ut_user
# (32 bytes) at offset 44; USER_PROCESS (7) marks a login.
_UTMP_RECORD = 384
_UTMP_USER = slice(44, 76)
_USER_PROCESS = 7


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def format_line(now: time.struct_time, seconds: float, users: int,
                load: Sequence[float]) -> str:
    """The uptime(1) line at wall-clock time ``now`` for a host up ``seconds``,
    with ``users`` logged in and the 1, 5 and 15 minute ``load`` averages."""
    minutes_up = max(int(seconds), 0) // 60
    days, minutes_of_day = divmod(minutes_up, 24 * 60)
    hours, minutes = divmod(minutes_of_day, 60)
    line = " %02d:%02d:%02d up " % (now.tm_hour, now.tm_min, now.tm_sec)
    if days:
        line += "%d %s, " % (days, _plural(days, "day"))
    line += "%2d:%02d, " % (hours, minutes) if hours else "%d min, " % minutes
    line += "%2d %s, " % (users, _plural(users, "user"))
    one, five, fifteen = (list(load) + [0.0, 0.0, 0.0])[:3]
    return line + " load average: %.2f, %.2f, %.2f" % (one, five, fifteen)


def count_users(path: str = UTMP) -> int:
    """Login sessions in a utmp file (0 when there is none or it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return 0
    count = 0
    for start in range(0, len(data) - _UTMP_RECORD + 1, _UTMP_RECORD):
        record = data[start:start + _UTMP_RECORD]
        (kind,) = struct.unpack_from("<h", record)
        if kind == _USER_PROCESS and record[_UTMP_USER].strip(b"\0"):
            count += 1
    return count


def host_line(proc_uptime: str = PROC_UPTIME, proc_loadavg: str = PROC_LOADAVG,
              utmp: str = UTMP) -> str:
    """This host's uptime(1) line.

    :raises: OSError or ValueError when ``/proc`` cannot be read as Linux writes it.
    """
    with open(proc_uptime) as handle:
        seconds = float(handle.read().split()[0])
    with open(proc_loadavg) as handle:
        load = [float(v) for v in handle.read().split()[:3]]
    return format_line(time.localtime(), seconds, count_users(utmp), load)
