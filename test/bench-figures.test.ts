// The tooling behind docs/performance.md: bench/figures.js measures issue 12's figures and writes
// JSON, scripts/plot-bench.js draws that JSON as an SVG. Real child processes, real servers on
// 127.0.0.1, real files; no assertion on any timing (a busy machine may miss every target).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from './cli-helpers.js';
import { HEAVY_TEST_TIMEOUT_MS } from './helpers.js';

interface Series {
  label: string;
  samples: number[];
  median: number;
  ratio?: number;
}

interface Figure {
  id: string;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  skipped?: string;
  command?: string;
  greenloop: Series;
  baseline: Series;
  ratio: number;
  pairedRatio: number;
  target: { op: '>=' | '<='; ratio: number; text: string };
  met: boolean | null;
  beside: Series[];
  errors?: string[];
}

interface FiguresJson {
  bench: string;
  quick: boolean;
  machine: { node: string; cpus: number; loadavg: number[] };
  loadavgAtEnd: number[];
  figures: Figure[];
  notes: string[];
}

// The baselines come from Debian's packages (apt-get install python3-greenlet python3-gevent wrk;
// .ci/run installs them). Without one, figures.js must say so and leave that column or figure out:
// that is what these tests check on such a machine.
const PYTHON = '/usr/bin/python3';
const canImport = (module: string) => existsSync(PYTHON) && spawnSync(PYTHON, ['-c', `import ${module}`]).status === 0;
const have = { wrk: existsSync('/usr/bin/wrk'), gevent: canImport('gevent'), greenlet: canImport('greenlet') };

const work = mkdtempSync(join(tmpdir(), 'greenloop-figures-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function node(args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, args, { cwd: packageRoot, encoding: 'utf8', timeout: timeoutMs });
  return { ...r, diagnosis: `status ${r.status}, signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}` };
}

function xmlText(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The bars of an SVG made by plot-bench.js: the figure id of each, in order. */
function barsOf(svg: string): string[] {
  return [...svg.matchAll(/<rect class="bar" data-figure="([^"]+)"/g)].map((m) => m[1]!);
}

/** `node scripts/plot-bench.js <json> docs/performance.svg`, as docs/performance.md says to run it. */
function documentedPlotCommand(): { json: string; svg: string } {
  const page = readFileSync(join(packageRoot, 'docs', 'performance.md'), 'utf8');
  const m = /node scripts\/plot-bench\.js (bench\/results\/\S+\.json) (docs\/performance\.svg)/.exec(page);
  if (!m)
    throw new Error('docs/performance.md does not show the plot-bench.js command that makes docs/performance.svg');
  return { json: m[1]!, svg: m[2]! };
}

/** Runs bench/figures.js --quick on `only` and returns its JSON. */
function quickRun(only: string[]): FiguresJson {
  const out = join(work, `${only[0]}.json`);
  const r = node(['bench/figures.js', '--quick', '--only', only.join(','), '--json', out], 240_000);
  expect(r.status, r.diagnosis).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as FiguresJson;
}

/**
 * Every figure has samples, medians, a ratio and a target, and no measuring step failed; a figure
 * in `missing` (its baseline tool is not installed) is instead named by a note with that text.
 */
function expectMeasured(json: FiguresJson, only: string[], missing: Record<string, string> = {}) {
  expect(json.bench).toBe('figures');
  expect(json.quick).toBe(true);
  expect(json.machine.node).toBe(process.version);
  expect(json.machine.cpus).toBeGreaterThan(0);
  expect(json.machine.loadavg).toHaveLength(3);
  expect(json.loadavgAtEnd).toHaveLength(3);
  expect(json.figures.map((f) => f.id)).toEqual(only);
  for (const f of json.figures) {
    if (f.id in missing) {
      expect(json.notes.join('\n'), f.id).toContain(missing[f.id]);
      continue;
    }
    const where = `${f.id}: ${JSON.stringify(f.errors ?? f.skipped ?? '')}`;
    expect(f.errors, where).toBeUndefined();
    expect(f.skipped, where).toBeUndefined();
    expect(f.command, where).toMatch(/bench\//);
    for (const s of [f.greenloop, f.baseline]) {
      expect(s.samples.length, where).toBeGreaterThan(0);
      expect(
        s.samples.every((x) => Number.isFinite(x) && x > 0),
        where,
      ).toBe(true);
      expect(Number.isFinite(s.median) && s.median > 0, where).toBe(true);
    }
    // The JSON keeps 4 significant digits of every number.
    expect(Math.abs(f.ratio / (f.greenloop.median / f.baseline.median) - 1), where).toBeLessThan(0.005);
    expect(Number.isFinite(f.pairedRatio) && f.pairedRatio > 0, where).toBe(true);
    expect(Number.isFinite(f.target.ratio) && f.target.ratio > 0, where).toBe(true);
    expect(f.target.op, where).toBe(f.better === 'higher' ? '>=' : '<=');
    expect(f.met, where).toBe(f.target.op === '>=' ? f.ratio >= f.target.ratio : f.ratio <= f.target.ratio);
  }
}

describe('scripts/plot-bench.js', () => {
  it('draws one bar per figure of the committed JSON, with its target, and docs/performance.svg is that drawing', () => {
    const { json, svg } = documentedPlotCommand();
    const figures = (JSON.parse(readFileSync(join(packageRoot, json), 'utf8')) as FiguresJson).figures;
    expect(figures.length).toBeGreaterThanOrEqual(11);
    const out = join(work, 'committed.svg');
    const r = node(['scripts/plot-bench.js', json, out]);
    expect(r.status, r.diagnosis).toBe(0);
    const drawn = readFileSync(out, 'utf8');
    const measured = figures.filter((f) => Number.isFinite(f.ratio));
    expect(barsOf(drawn)).toEqual(measured.map((f) => f.id));
    expect([...drawn.matchAll(/<line class="target"/g)]).toHaveLength(measured.length);
    for (const f of figures) expect(drawn).toContain(`>${xmlText(f.title)}</text>`);
    expect(readFileSync(join(packageRoot, svg), 'utf8')).toBe(drawn);
  });

  it('names the file it cannot use, and exits with an error', () => {
    const notFigures = join(work, 'switch.json');
    writeFileSync(notFigures, JSON.stringify({ bench: 'switch' }));
    const wrong = node(['scripts/plot-bench.js', notFigures, join(work, 'x.svg')]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain(`${notFigures} is not bench/figures.js output (bench is "switch"`);
    const missing = node(['scripts/plot-bench.js', join(work, 'nope.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`cannot read ${join(work, 'nope.json')} as JSON`);
    expect(existsSync(join(work, 'x.svg'))).toBe(false);
    const usage = node(['scripts/plot-bench.js']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: node scripts/plot-bench.js <figures.json> [<out.svg>]');
  });
});

// Each quick run may take up to 240 s (its child limit) on a busy machine: past vitest's 60 s.
describe('bench/figures.js --quick', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('refuses a figure it does not know, naming it and the known ones', () => {
    const r = node(['bench/figures.js', '--quick', '--only', 'tcp-echo-100,echo-typo']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown figure "echo-typo" in --only; figures: tcp-echo-100, tcp-echo-1000');
  });

  it('measures the TCP echo, parked-connection and HTTP figures against their baselines and plots them', () => {
    const only = ['tcp-echo-100', 'http-10', 'http-park-10', 'parked-conns-active', 'rss-parked-conn']; // in the table's order
    const missing: Record<string, string> = have.wrk
      ? {}
      : { 'http-10': 'apt-get install wrk', 'http-park-10': 'apt-get install wrk' };
    const json = quickRun(only);
    expectMeasured(json, only, missing);
    // gevent beside where it has a counterpart, or a note that says how to get it.
    expect(json.figures.find((f) => f.id === 'tcp-echo-100')!.beside.map((s) => s.label)).toEqual(
      have.gevent ? ['gevent StreamServer'] : [],
    );
    if (!have.gevent) expect(json.notes.join('\n')).toContain('apt-get install python3-gevent');
    if (have.wrk) {
      expect(json.figures.find((f) => f.id === 'http-10')!.beside.map((s) => s.label)).toEqual(
        have.gevent ? ['gevent pywsgi'] : [],
      );
    }
    const svg = join(work, 'quick.svg');
    const r = node(['scripts/plot-bench.js', join(work, `${only[0]}.json`), svg]);
    expect(r.status, r.diagnosis).toBe(0);
    const drawn = readFileSync(svg, 'utf8');
    expect(barsOf(drawn)).toEqual(only.filter((id) => !(id in missing)));
    expect(drawn).toContain('QUICK RUN (not real figures)');
  });

  it('measures the greenlet figures (bench/switch.js, bench/spawn.js and bench/gc.js children) against theirs', () => {
    const only = [
      'rss-parked-greenlet',
      'scavenge-parked-greenlet',
      'cold-spawn-park',
      'cold-spawn-prewarmed',
      'switch-round-trip',
    ];
    // python-greenlet is the switch figure's baseline: without it that figure is left out, with a note.
    const missing: Record<string, string> = have.greenlet
      ? {}
      : { 'switch-round-trip': 'python-greenlet switch baseline' };
    const json = quickRun(only);
    expectMeasured(json, only, missing);
    const besides = Object.fromEntries(json.figures.map((f) => [f.id, f.beside.map((s) => s.label)]));
    const python = have.greenlet ? ['python-greenlet'] : [];
    expect(besides).toEqual({
      'rss-parked-greenlet': python,
      'scavenge-parked-greenlet': [],
      'cold-spawn-park': python,
      'cold-spawn-prewarmed': have.gevent ? ['gevent'] : [],
      'switch-round-trip': [],
    });
  });
});
