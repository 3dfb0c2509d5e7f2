"""Shared parts of the Python baselines in bench/python/ (hub_gevent.py, switch.py).

Each script takes [runs] [target_ms_per_sample] and prints one JSON line;
bench/*.js runs it under /usr/bin/python3 and reads that line.
"""

import json
import statistics
import sys
import time

clock = time.perf_counter_ns


def cannot_import(module, error):
    """Prints the JSON line the caller reports as a skip, and exits."""
    print(json.dumps({"error": "cannot import %s: %s" % (module, error)}))
    sys.exit(0)


def settings(default_ms):
    """(runs, target ns per sample) from the command line, with these defaults: 9 runs, default_ms."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    target_ns = (float(sys.argv[2]) if len(sys.argv) > 2 else default_ms) * 1e6
    return runs, target_ns


def calibrate(fn, target_ns, start, cap):
    """Iterations so that one sample of fn(n) (ns per op) takes about target_ns, never fewer than start."""
    n = start
    while True:
        per = fn(n)
        if per * n > target_ns / 8 or n >= cap:
            return max(start, int(target_ns / per))
        n *= 4


def summary(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def measure(benches, runs, target_ns, start, cap):
    """Calibrates each of benches ({name: fn(n) -> ns per op}), then samples each
    once per run, interleaved; returns (iterations, {name: summary})."""
    iterations = {k: calibrate(f, target_ns, start, cap) for k, f in benches.items()}
    samples = {k: [] for k in benches}
    for _ in range(runs):
        for k, f in benches.items():
            samples[k].append(f(iterations[k]))
    return iterations, {k: summary(v) for k, v in samples.items()}
