"""python-greenlet baseline for bench/switch.js.

Prints one JSON line: medians over RUNS runs of
  - round trip main -> greenlet -> main (ns),
  - round trip greenlet -> greenlet -> greenlet (two non-root greenlets),
  - spawn + run + finish of a greenlet whose run returns at once (ns).
Usage: /usr/bin/python3 bench/python/switch.py [runs] [target_ms_per_sample]
"""

import json
import platform
import statistics
import sys
import time

try:
    import greenlet
    from greenlet import getcurrent
except ImportError as e:  # the caller prints a skip message
    print(json.dumps({"error": "cannot import greenlet: %s" % e}))
    sys.exit(0)

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 9
TARGET_NS = (float(sys.argv[2]) if len(sys.argv) > 2 else 150) * 1e6
clock = time.perf_counter_ns


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


def calibrate(fn, start=1000):
    """Iterations so that one sample takes about TARGET_NS."""
    n = start
    while True:
        per = fn(n)
        if per * n > TARGET_NS / 8 or n >= 1 << 24:
            return max(1000, int(TARGET_NS / per))
        n *= 4


def main():
    benches = {
        "roundTripMainNs": bench_main_round_trip,
        "roundTripG2GNs": bench_g2g_round_trip,
        "spawnFinishNs": bench_spawn,
    }
    iters = {k: calibrate(f) for k, f in benches.items()}
    samples = {k: [] for k in benches}
    for _ in range(RUNS):
        for k, f in benches.items():
            samples[k].append(f(iters[k]))
    out = {
        "greenlet": greenlet.__version__,
        "python": platform.python_version(),
        "runs": RUNS,
        "iterations": iters,
    }
    for k, xs in samples.items():
        out[k] = {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
