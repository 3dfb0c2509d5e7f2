"""gevent baseline for bench/hub.js.

Prints one JSON line: medians (with min and max) over RUNS runs of
  - sleep0: two greenlets that keep calling gevent.sleep(0), ns per sleep(0);
  - spawnJoin: gevent.spawn(f).join() where f returns at once, ns per pair;
  - queue: two greenlets passing an item back and forth through two
    gevent.queue.Queue, ns per put/get hand-off;
  - event: two greenlets waking each other through two gevent.event.Event,
    ns per wake-up.
The same four figures bench/hub.js measures for greenloop.
Usage: /usr/bin/python3 bench/python/hub_gevent.py [runs] [target_ms_per_sample]
"""

import json
import platform

from _common import cannot_import, clock, measure, settings

try:
    import gevent
    from gevent.event import Event
    from gevent.queue import Queue
except ImportError as e:  # the caller prints a skip message
    cannot_import("gevent", e)

RUNS, TARGET_NS = settings(100)


def bench_sleep0(n):
    half = (n + 1) // 2

    def loop():
        for _ in range(half):
            gevent.sleep(0)

    t0 = clock()
    other = gevent.spawn(loop)
    loop()
    other.join()
    return (clock() - t0) / (2 * half)


def nothing():
    return None


def bench_spawn_join(n):
    t0 = clock()
    for _ in range(n):
        gevent.spawn(nothing).join()
    return (clock() - t0) / n


def bench_queue(n):
    there, back = Queue(), Queue()
    half = (n + 1) // 2

    def echo():
        for _ in range(half):
            back.put(there.get())

    g = gevent.spawn(echo)
    t0 = clock()
    for i in range(half):
        there.put(i)
        back.get()
    ns = (clock() - t0) / (2 * half)
    g.join()
    return ns


def bench_event(n):
    ping, pong = Event(), Event()
    half = (n + 1) // 2

    def echo():
        for _ in range(half):
            ping.wait()
            ping.clear()
            pong.set()

    g = gevent.spawn(echo)
    t0 = clock()
    for _ in range(half):
        ping.set()
        pong.wait()
        pong.clear()
    ns = (clock() - t0) / (2 * half)
    g.join()
    return ns


def main():
    benches = {"sleep0": bench_sleep0, "spawnJoin": bench_spawn_join, "queue": bench_queue, "event": bench_event}
    iterations, out = measure(benches, RUNS, TARGET_NS, 64, 1 << 22)
    out.update(
        {
            "gevent": gevent.__version__,
            "python": platform.python_version(),
            "loop": type(gevent.get_hub().loop).__module__,
            "iterations": iterations,
        }
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
