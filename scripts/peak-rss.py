#!/usr/bin/env python3
"""Runs a command and appends "PID PEAK_RSS_KIB CPU_MS" to a file when it exits.

    peak-rss.py OUT_FILE COMMAND [ARGS...]

scripts/bench.sh puts this between terraform and the provider (a two-line
wrapper in the filesystem mirror execs it) to learn the provider's peak
resident set size and CPU time (user + system). The RSS figure is the kernel's own account, ru_maxrss from
wait4(2) — the same high-water mark as VmHWM in /proc/PID/status — taken when
the process has ended, so no peak can fall between two samples and nothing
races the process's exit.

stdin/stdout/stderr and the environment pass through untouched (go-plugin's
handshake line is the provider's first line on stdout). SIGINT and SIGTERM
are forwarded, so terraform can still stop the provider; the exit status is
the command's.
"""

import os
import signal
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, command = sys.argv[1], sys.argv[2:]
    child = subprocess.Popen(command)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
    # wait4 rather than child.wait(): it also returns the child's rusage.
    _, status, usage = os.wait4(child.pid, 0)
    with open(out, "a", encoding="ascii") as f:
        cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
        f.write(f"{child.pid} {usage.ru_maxrss} {cpu_ms:.0f}\n")  # KiB on Linux
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
