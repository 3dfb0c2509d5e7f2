"""python-greenlet beside greenloop's parked greenlets, for bench/figures.js.

In a fresh process, starts N greenlets that each park at once (main.switch()),
keeping them reachable, and prints one JSON line: RSS per parked greenlet
(after gc.collect(), VmRSS as bench/switch.js reads it) and spawn + park time
per greenlet.
Usage: /usr/bin/python3 bench/figures/greenlet_park.py [n]
"""

import gc
import json
import os
import platform
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from _common import cannot_import, clock  # noqa: E402

try:
    import greenlet
except ImportError as e:  # the caller prints a skip message
    cannot_import("greenlet", e)


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return float("nan")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    main_greenlet = greenlet.getcurrent()

    def park():
        main_greenlet.switch()

    for _ in range(100):  # load and warm up what the loop uses
        greenlet.greenlet(lambda: None).switch()
    gc.collect()
    rss0 = rss_bytes()
    parked = []
    t0 = clock()
    for _ in range(n):
        g = greenlet.greenlet(park)
        g.switch()
        parked.append(g)
    spawn_park_ns = (clock() - t0) / n
    gc.collect()
    rss1 = rss_bytes()
    print(
        json.dumps(
            {
                "greenlet": greenlet.__version__,
                "python": platform.python_version(),
                "parked": len(parked),
                "rssPerGreenlet": (rss1 - rss0) / n,
                "spawnAndParkNs": spawn_park_ns,
            }
        )
    )


if __name__ == "__main__":
    main()
