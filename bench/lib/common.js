'use strict';
// Shared helpers of the benchmarks in bench/: statistics, formatting, child
// processes (one per backend / configuration) and the result protocol between
// a child and its parent.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist', 'cjs', 'index.js');
const BACKENDS = ['user-space', 'threads'];
const RESULT_TAG = 'BENCH_RESULT ';

// ---------------------------------------------------------------- statistics

function sorted(xs) {
  return [...xs].sort((a, b) => a - b);
}

function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const median = (xs) => quantile(xs, 0.5);

/** { median, min, max, n } of a list of samples. */
function summary(xs) {
  const s = sorted(xs);
  return { median: median(s), min: s[0], max: s[s.length - 1], n: s.length };
}

/** Least-squares slope and intercept of y over x. */
function linearFit(points) {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

// ---------------------------------------------------------------- formatting

/** A duration given in ns, in the unit that reads best. */
function fmtNs(ns) {
  if (!Number.isFinite(ns)) return 'n/a';
  if (ns < 10_000) return `${ns.toFixed(ns < 100 ? 1 : 0)} ns`;
  if (ns < 10_000_000) return `${(ns / 1e3).toFixed(ns < 100_000 ? 2 : 1)} µs`;
  return `${(ns / 1e6).toFixed(1)} ms`;
}

/** A duration given in µs. */
function fmtUs(us, digits = 2) {
  return Number.isFinite(us) ? `${us.toFixed(digits)} µs` : 'n/a';
}

function fmtBytes(b) {
  if (!Number.isFinite(b)) return 'n/a';
  if (Math.abs(b) < 10_000) return `${b.toFixed(0)} B`;
  if (Math.abs(b) < 10_000_000) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1048576).toFixed(1)} MiB`;
}

function fmtRatio(r) {
  if (!Number.isFinite(r)) return 'n/a';
  return `${r < 10 ? r.toFixed(2) : r.toFixed(1)}x`;
}

/** "median [min-max]" of a summary, formatted with fmt. */
function fmtSpread(s, fmt = fmtNs) {
  if (!s) return 'n/a';
  return `${fmt(s.median)} [${fmt(s.min)}-${fmt(s.max)}]`;
}

/** Prints rows (arrays of strings) as a left-aligned table; the first row is the header. */
function printTable(rows, indent = '  ') {
  const widths = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  rows.forEach((row, r) => {
    console.log(
      indent +
        row
          .map((c, i) => String(c).padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
    );
    if (r === 0) console.log(indent + widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

/** Rounds every number in a JSON-able value to `digits` significant-ish decimals. */
function roundDeep(v, digits = 4) {
  if (typeof v === 'number') return Number.isInteger(v) ? v : Number(v.toPrecision(digits));
  if (Array.isArray(v)) return v.map((x) => roundDeep(x, digits));
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = roundDeep(x, digits);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------- timing

const now = () => process.hrtime.bigint();
const elapsedNs = (t0) => Number(process.hrtime.bigint() - t0);

/**
 * Iterations that make one sample of `perOpNs(n)` (ns per op over n ops; it
 * may return a promise) last about `sampleMs`: n grows 4x from `start` until a
 * sample takes over an eighth of that or n reaches `cap`; never below `start`.
 */
async function calibrate(perOpNs, sampleMs, start, cap) {
  let n = start;
  for (;;) {
    const per = await perOpNs(n);
    if (per * n > (sampleMs * 1e6) / 8 || n >= cap) return Math.max(start, Math.round((sampleMs * 1e6) / per));
    n *= 4;
  }
}

function rssBytes() {
  // VmRSS from /proc is what `ps` shows; memoryUsage.rss() reads the same counter.
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {}
  return process.memoryUsage.rss();
}

function threadCount() {
  try {
    return fs.readdirSync('/proc/self/task').length;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------- processes

/** Environment for a child that must run `backend` (the variable is read when the module loads). */
function backendEnv(backend) {
  const env = { ...process.env };
  delete env.GREENLOOP_SWITCH;
  if (backend === 'threads') env.GREENLOOP_SWITCH = 'threads';
  return env;
}

/** Called in a child: hands `result` to the parent. */
function sendResult(result) {
  process.stdout.write(RESULT_TAG + JSON.stringify(result) + '\n');
}

/**
 * Runs `node [nodeArgs] script [args]` and returns the object the child passed
 * to sendResult, or { error } when it failed.
 */
function runChild(script, args, { env = process.env, nodeArgs = [], timeoutMs = 120_000 } = {}) {
  const r = spawnSync(process.execPath, [...nodeArgs, script, ...args], {
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (r.status !== 0 || !line) {
    const why = r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit code ${r.status}`;
    const tail = `${r.stderr || ''}${r.stdout || ''}`.trim().split('\n').slice(-8).join('\n    ');
    return { error: `${path.basename(script)} ${args.join(' ')}: ${why}${tail ? `\n    ${tail}` : ''}` };
  }
  return JSON.parse(line.slice(RESULT_TAG.length));
}

/**
 * Runs a baseline script of bench/python/ under `python` with `args` and
 * returns the JSON object it prints last, or { skipped: why } when `python`
 * cannot import `module`, the script reports an error, or it fails.
 */
function runPythonBaseline(python, module, script, args, timeoutMs) {
  const probe = spawnSync(python, ['-c', `import ${module}`], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : (probe.stderr || '').trim().split('\n').pop();
    return { skipped: `${python} cannot import ${module} (${why})` };
  }
  const r = spawnSync(python, [path.join(ROOT, 'bench', 'python', script), ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  try {
    const out = JSON.parse((r.stdout || '').trim().split('\n').pop());
    return out.error ? { skipped: out.error } : out;
  } catch {
    return { skipped: `bench/python/${script} failed: ${(r.stderr || r.error || '').toString().trim()}` };
  }
}

/** Parses --name=value / --name value / --flag options. */
function parseArgs(argv = process.argv.slice(2)) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out._.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[a.slice(2)] = argv[++i];
    else out[a.slice(2)] = true;
  }
  return out;
}

function machine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim(),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

/** Prints a report's first line: which benchmark, on which Node and machine (`m` from machine()). */
function printBanner(title, m) {
  console.log(
    `greenloop ${title} benchmark: node ${m.node} (V8 ${m.v8}), ${m.platform}, ${m.cpus} CPUs, loadavg ${m.loadavg.join(' ')}`,
  );
}

/**
 * Ends a report started at `t0` (Date.now()) on machine `m`: adds the load
 * average at the end and the elapsed seconds to `json`, prints the load
 * warning if any, then the closing line and `json` (the last line printed).
 */
function printJsonReport(json, m, t0, { blankLine = true } = {}) {
  json.loadavgAtEnd = machine().loadavg;
  const warning = loadWarning(m.loadavg, json.loadavgAtEnd);
  if (warning) console.log(`\n${warning}`);
  json.elapsedS = (Date.now() - t0) / 1000;
  console.log(
    `${blankLine ? '\n' : ''}loadavg at end ${json.loadavgAtEnd.join(' ')}; ${json.elapsedS.toFixed(1)} s. JSON:`,
  );
  console.log(JSON.stringify(roundDeep(json)));
}

/**
 * The fields of a /proc/<pid>/stat (or /proc/thread-self/stat) file after the
 * command name, which may itself hold spaces and parentheses: index 0 is the
 * state (field 3 of proc(5)), so field N is at index N - 3.
 */
function procStatFields(file) {
  const stat = fs.readFileSync(file, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU time since boot, in clock ticks: all CPUs' busy time, the time the
 * hypervisor gave to other guests (steal), and this process's own with its
 * reaped children (the benchmark's servers, clients and baselines), or null
 * without /proc.
 */
function cpuTicks() {
  try {
    const all = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = all;
    // Fields 14-17 (utime, stime, cutime, cstime).
    const own = procStatFields('/proc/self/stat').map(Number);
    return {
      busy: user + nice + system + irq + softirq,
      steal: steal ?? 0,
      own: own[11] + own[12] + own[13] + own[14],
    };
  } catch {
    return null;
  }
}

/** When this module loaded: what {@link loadWarning} measures the run from. */
const ticksAtStart = { at: Date.now(), cpu: cpuTicks() };

/**
 * A line warning that other processes (or other guests of the hypervisor)
 * took CPU time during the run, or '' when they did not seem to. It counts
 * CPU time, not the load average: the benchmark's own threads (the threads
 * backend's, the owner threads of 10,000 cold greenlets) raise the load
 * average without competing with anything. `start` and `end` are the load
 * averages the report shows.
 */
function loadWarning(start, end) {
  const cpus = os.cpus().length;
  const worst = Math.max(start[0], end[0]);
  const now = cpuTicks();
  const then = ticksAtStart.cpu;
  if (now === null || then === null) {
    if (worst < cpus * 0.75) return '';
    return `WARNING: 1-min load average reached ${worst} on ${cpus} CPUs: other processes may have competed for the CPUs`;
  }
  const available = (((Date.now() - ticksAtStart.at) / 1000) * cpus * 100) | 0; // USER_HZ is 100 on Linux
  if (available < 100) return ''; // under a second: too short to tell
  const others = Math.max(0, now.busy - then.busy - (now.own - then.own)) / available;
  const steal = Math.max(0, now.steal - then.steal) / available;
  if (others < 0.1 && steal < 0.1) return '';
  const parts = [];
  if (others >= 0.1) parts.push(`other processes used ${(others * 100).toFixed(0)}% of the ${cpus} CPUs`);
  if (steal >= 0.1) parts.push(`the hypervisor gave ${(steal * 100).toFixed(0)}% of their time to other guests`);
  return (
    `WARNING: during the run ${parts.join(' and ')} (1-min load average up to ${worst}), ` +
    'so absolute times are inflated (the threads backend, which hands over through the scheduler, most of all)'
  );
}

module.exports = {
  procStatFields,
  loadWarning,
  ROOT,
  DIST,
  BACKENDS,
  quantile,
  median,
  summary,
  linearFit,
  fmtNs,
  fmtUs,
  fmtBytes,
  fmtRatio,
  fmtSpread,
  printTable,
  roundDeep,
  now,
  elapsedNs,
  calibrate,
  rssBytes,
  threadCount,
  backendEnv,
  sendResult,
  runChild,
  runPythonBaseline,
  parseArgs,
  machine,
  printBanner,
  printJsonReport,
};
