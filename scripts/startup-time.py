#!/usr/bin/env python3
"""Times the provider's start: from exec to its go-plugin handshake line.

    startup-time.py PROVIDER CLIENT_CERT_PEM RUNS

Starts PROVIDER RUNS times as Terraform does (magic cookie, protocol 6, and
the AutoMTLS client certificate that Terraform passes, so the TLS set-up is
part of the figure), reads the handshake line, and stops it. Prints one line:
min/median/max wall milliseconds to the handshake line, and the median CPU
milliseconds of a whole process life (start, handshake, SIGTERM, exit).
"""

import os
import resource
import statistics
import subprocess
import sys
import time

COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    provider, cert, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(cert, encoding="ascii") as f:
        pem = f.read()
    env = dict(os.environ, TF_PLUGIN_MAGIC_COOKIE=COOKIE, PLUGIN_PROTOCOL_VERSIONS="6", PLUGIN_CLIENT_CERT=pem)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        child = subprocess.Popen([provider], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = child.stdout.readline() if child.stdout else b""
        walls.append((time.perf_counter() - start) * 1000)
        child.terminate()
        child.wait()
        if line.count(b"|") < 4:
            print(f"no handshake line from {provider}: {line!r}", file=sys.stderr)
            return 1
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
    print(
        f"{min(walls):.1f}\t{statistics.median(walls):.1f}\t{max(walls):.1f}\t{statistics.median(cpus):.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
