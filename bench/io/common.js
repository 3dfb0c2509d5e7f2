'use strict';
// Shared helpers of the green IO benchmarks (bench/echo.js, bench/http-*.js):
// starting a server in its own process, reading its RSS, running a load
// generator in another process, medians and ratios.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { procStatFields } = require('../lib/common.js');

const ROOT = path.resolve(__dirname, '..', '..');

function parseArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Lines of a child's stdout, as an async queue. */
function lineReader(child) {
  const lines = [];
  const waiters = [];
  let buffer = '';
  let ended = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let at;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      const w = waiters.shift();
      if (w) w.resolve(line);
      else lines.push(line);
    }
  });
  child.stdout.on('end', () => {
    ended = true;
    for (const w of waiters.splice(0)) w.resolve(null);
  });
  return {
    next() {
      if (lines.length > 0) return Promise.resolve(lines.shift());
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => waiters.push({ resolve }));
    },
  };
}

/** Reads lines until one starts with `prefix`; returns the rest of it. */
async function expectLine(reader, prefix, what) {
  for (;;) {
    const line = await reader.next();
    if (line === null) throw new Error(`${what} ended before printing "${prefix}"`);
    if (line.startsWith(prefix)) return line.slice(prefix.length).trim();
  }
}

/**
 * Starts a server process that prints `PORT <n>` once it listens.
 * Returns { port, pid, rss(), stop() }.
 */
async function startServer(command, args, options = {}) {
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  });
  const reader = lineReader(child);
  const port = Number(await expectLine(reader, 'PORT', `server ${path.basename(args[args.length - 1] ?? command)}`));
  return {
    port,
    pid: child.pid,
    rss: () => rssOf(child.pid),
    cpu: () => cpuOf(child.pid),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGKILL');
      }),
  };
}

/** Resident set size of a process, in bytes (Linux). */
function rssOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU seconds (user + system) a process has used (Linux). */
function cpuOf(pid) {
  const fields = procStatFields(`/proc/${pid}/stat`);
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
}

/**
 * Runs a load generator process; `onLine(line)` sees each stdout line.
 * Resolves with the JSON object on its `RESULT` line.
 */
async function runLoad(command, args, onLine = () => {}) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const reader = lineReader(child);
  let result = null;
  for (;;) {
    const line = await reader.next();
    if (line === null) break;
    if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7));
    else await onLine(line);
  }
  await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  if (result === null) throw new Error(`load generator ${args.join(' ')} printed no RESULT`);
  return result;
}

/**
 * Runs bench/io/echo-load.js, its options given by flag name without the
 * dashes (`{ port, clients, seconds, warmup, idle, 'idle-mode', 'idle-settle',
 * tls }`; undefined ones are left out); `onLine` and the result as runLoad's.
 */
function runEchoLoad(options, onLine) {
  const argv = [path.join(__dirname, 'echo-load.js')];
  for (const [flag, value] of Object.entries(options)) if (value !== undefined) argv.push(`--${flag}`, String(value));
  return runLoad(process.execPath, argv, onLine);
}

function fmtRate(x) {
  if (!Number.isFinite(x)) return 'n/a';
  return x >= 1e5 ? `${(x / 1e3).toFixed(0)}k/s` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k/s` : `${x.toFixed(0)}/s`;
}

function fmtMiB(bytes) {
  return Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(1)} MiB` : 'n/a';
}

function fmtRatio(r) {
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a';
}

/** Prints an aligned table: rows of cells, first row the header. */
function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const [n, row] of rows.entries()) {
    console.log(
      row.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  '),
    );
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** True if gevent can be imported by /usr/bin/python3. */
function haveGevent() {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync('/usr/bin/python3', ['-c', 'import gevent'], { stdio: 'ignore' });
  return r.status === 0;
}

/** The soft and hard limits on open files of a shell started now. */
function fileLimit() {
  const { execFileSync } = require('node:child_process');
  const out = execFileSync('sh', ['-c', 'echo $(ulimit -Sn) $(ulimit -Hn)'], { encoding: 'utf8' }).trim().split(' ');
  return { soft: out[0], hard: out[1] };
}

/**
 * Writes key.pem and cert.pem (self-signed P-256, for localhost and
 * 127.0.0.1) into a temp dir removed at exit; returns the dir.
 */
function makeCertDir() {
  const { execFileSync } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'greenloop-bench-cert-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  const out = ['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', ...ec, '-nodes', '-days', '2', ...subject, ...out], { stdio: 'pipe' });
  return dir;
}

/** The key and certificate of the `--tls DIR` argument (made by {@link makeCertDir}), or null without one. */
function tlsFiles(argv = process.argv) {
  const at = argv.indexOf('--tls');
  if (at < 0) return null;
  const read = (name) => fs.readFileSync(path.join(argv[at + 1], name));
  return { key: read('key.pem'), cert: read('cert.pem') };
}

module.exports = {
  ROOT,
  makeCertDir,
  tlsFiles,
  parseArgs,
  median,
  startServer,
  runLoad,
  runEchoLoad,
  rssOf,
  cpuOf,
  fmtRate,
  fmtMiB,
  fmtRatio,
  table,
  haveGevent,
  fileLimit,
};
