"""gevent baseline for bench/spawn.js.

Prints one JSON line for one fresh process:
  - cold: N greenlets spawned, each parked on one Event, timed from the first
    spawn until all have parked (ns per greenlet);
  - bursts: ROUNDS rounds of B greenlets spawned and parked, then released and
    joined; ns per greenlet of each round after the first, median [min, max].
Usage: /usr/bin/python3 bench/python/spawn_gevent.py N B ROUNDS
"""

import json
import platform
import statistics
import sys

from _common import cannot_import, clock

try:
    import gevent
    from gevent.event import Event
except ImportError as e:  # the caller prints a skip message
    cannot_import("gevent", e)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
B = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 10


def spawn_and_park(count):
    """ns per greenlet to spawn `count` greenlets that park on one Event; returns (ns, event, greenlets)."""
    event = Event()
    t0 = clock()
    greenlets = [gevent.spawn(event.wait) for _ in range(count)]
    gevent.sleep(0)  # behind all of them: each has parked when this returns
    return (clock() - t0) / count, event, greenlets


cold_ns, event, parked = spawn_and_park(N)
event.set()
gevent.joinall(parked)

bursts = []
for _ in range(ROUNDS):
    ns, event, greenlets = spawn_and_park(B)
    bursts.append(ns)
    event.set()
    gevent.joinall(greenlets)
bursts = bursts[1:]

print(
    json.dumps(
        {
            "gevent": gevent.__version__,
            "python": platform.python_version(),
            "coldNs": cold_ns,
            "burstNs": {"median": statistics.median(bursts), "min": min(bursts), "max": max(bursts), "n": len(bursts)},
        }
    )
)
