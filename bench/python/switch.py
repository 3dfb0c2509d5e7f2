"""python-greenlet baseline for bench/switch.js.

Prints one JSON line: medians over RUNS runs of
  - round trip main -> greenlet -> main (ns),
  - round trip greenlet -> greenlet -> greenlet (two non-root greenlets),
  - spawn + run + finish of a greenlet whose run returns at once (ns).
Usage: /usr/bin/python3 bench/python/switch.py [runs] [target_ms_per_sample]
"""

import json
import platform

from _common import cannot_import, clock, measure, settings

try:
    import greenlet
    from greenlet import getcurrent
except ImportError as e:  # the caller prints a skip message
    cannot_import("greenlet", e)

RUNS, TARGET_NS = settings(150)


def bench_main_round_trip(n):
    main = getcurrent()

    def run():
        sw = main.switch
        while True:
            sw()

    g = greenlet.greenlet(run)
    g.switch()  # start it: it parks in main.switch()
    sw = g.switch
    t0 = clock()
    for _ in range(n):
        sw()
    dt = clock() - t0
    g.throw()  # unwind with GreenletExit
    return dt / n


def bench_g2g_round_trip(n):
    result = {}

    def pong():
        while True:
            a.switch()

    def ping(count):
        sw = b.switch
        sw()  # start b: it parks in a.switch()
        t0 = clock()
        for _ in range(count):
            sw()
        result["ns"] = (clock() - t0) / count

    a = greenlet.greenlet(ping)
    b = greenlet.greenlet(pong, parent=a)
    a.switch(n)
    return result["ns"]


def nothing():
    return None


def bench_spawn(n):
    G = greenlet.greenlet
    t0 = clock()
    for _ in range(n):
        G(nothing).switch()
    return (clock() - t0) / n


def main():
    benches = {
        "roundTripMainNs": bench_main_round_trip,
        "roundTripG2GNs": bench_g2g_round_trip,
        "spawnFinishNs": bench_spawn,
    }
    iters, figures = measure(benches, RUNS, TARGET_NS, 1000, 1 << 24)
    out = {
        "greenlet": greenlet.__version__,
        "python": platform.python_version(),
        "runs": RUNS,
        "iterations": iters,
    }
    out.update(figures)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
