#!/usr/bin/env node
'use strict';
// Draws bench/figures.js's JSON as an SVG: one bar per figure, the ratio of
// greenloop to its baseline measured in the same run (log scale, bars start
// at 1x), the issue's target marked on each row, gevent / python-greenlet as
// a dot where the run measured them. No dependencies.
//
//   node scripts/plot-bench.js <figures.json> [<out.svg>]
//
// Without <out.svg> the SVG is written beside the JSON (same name, .svg).
const fs = require('node:fs');
const path = require('node:path');

const WIDTH = 980;
const LABEL_W = 430;
const PLOT_X0 = LABEL_W + 10;
const PLOT_X1 = WIDTH - 70;
const HEAD_H = 78;
const ROW_H = 46;
const FOOT_H = 58;
const COLOURS = { met: '#2e7d32', missed: '#d84315', unknown: '#757575', target: '#212121', beside: '#1565c0' };

function escapeXml(s) {
  return String(s).replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch],
  );
}

const fmtRatio = (r) => (r >= 10 ? `${r.toFixed(r >= 100 ? 0 : 1)}x` : `${r.toFixed(2)}x`);

function fmtValue(v, unit) {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'bytes') return v >= 10 * 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${v.toFixed(0)} B`;
  if (unit === 'ns') return v >= 10_000 ? `${(v / 1000).toFixed(1)} µs` : `${v.toFixed(0)} ns`;
  if (unit === 'µs') return v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${v.toFixed(0)} µs`;
  return v >= 1e5
    ? `${(v / 1e3).toFixed(0)}k ${unit}`
    : v >= 1e3
      ? `${(v / 1e3).toFixed(1)}k ${unit}`
      : `${v.toFixed(0)} ${unit}`;
}

/** Reads and checks a figures JSON; the error names what is wrong. */
function readFigures(file) {
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`plot-bench: cannot read ${file} as JSON: ${error.message}`);
  }
  if (json?.bench !== 'figures' || !Array.isArray(json.figures)) {
    throw new Error(
      `plot-bench: ${file} is not bench/figures.js output (bench is ${JSON.stringify(json?.bench)}, no figures list)`,
    );
  }
  return json;
}

/** Decades of the log axis that hold every ratio, target and 1x. */
function axisRange(figures) {
  const xs = [1];
  for (const f of figures) {
    if (Number.isFinite(f.ratio) && f.ratio > 0) xs.push(f.ratio);
    if (Number.isFinite(f.target?.ratio) && f.target.ratio > 0) xs.push(f.target.ratio);
    for (const s of f.beside ?? []) if (Number.isFinite(s.ratio) && s.ratio > 0) xs.push(s.ratio);
  }
  const lo = 10 ** Math.floor(Math.log10(Math.min(...xs)) - 0.001);
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...xs)) + 0.001);
  return { lo, hi };
}

function ticks({ lo, hi }) {
  const out = [];
  for (let d = lo; d < hi * 1.01; d *= 10) for (const m of [1, 2, 5]) if (d * m <= hi * 1.01) out.push(d * m);
  return out;
}

function render(json) {
  const figures = json.figures;
  const range = axisRange(figures);
  const x = (r) =>
    PLOT_X0 +
    ((Math.log10(r) - Math.log10(range.lo)) / (Math.log10(range.hi) - Math.log10(range.lo))) * (PLOT_X1 - PLOT_X0);
  const height = HEAD_H + figures.length * ROW_H + FOOT_H;
  const m = json.machine ?? {};
  const load = `${(m.loadavg ?? []).join(' ')} → ${(json.loadavgAtEnd ?? []).join(' ')}`;
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13">`,
    `<title>greenloop against its baselines, one run (bench/figures.js)</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="17" font-weight="600">greenloop / baseline, measured in one run (log scale; target marked ▼)</text>`,
    `<text x="16" y="46" fill="#555">${escapeXml(
      `${json.quick ? 'QUICK RUN (not real figures) · ' : ''}node ${m.node ?? '?'}${json.backend ? ` (${json.backend} backend)` : ''}, ${m.cpus ?? '?'} CPUs, load average ${load}, ${String(
        json.date ?? '',
      )
        .slice(0, 16)
        .replace('T', ' ')} UTC${json.git ? `, commit ${json.git.commit}` : ''}`,
    )}</text>`,
  );
  const top = HEAD_H;
  const bottom = HEAD_H + figures.length * ROW_H;
  // 2x and 5x get a label only when a decade is wide enough for three.
  const decadeW = (PLOT_X1 - PLOT_X0) / Math.log10(range.hi / range.lo);
  for (const t of ticks(range)) {
    const tx = x(t).toFixed(1);
    const decade = Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    parts.push(
      `<line x1="${tx}" y1="${top - 8}" x2="${tx}" y2="${bottom}" stroke="${t === 1 ? '#424242' : decade ? '#d0d0d0' : '#ececec'}" stroke-width="${t === 1 ? 1.5 : 1}"/>`,
    );
    if (decade || decadeW >= 150) {
      parts.push(
        `<text x="${tx}" y="${top - 12}" text-anchor="middle" fill="#555" font-size="11">${escapeXml(`${Number(t.toPrecision(3))}x`)}</text>`,
      );
    }
  }
  figures.forEach((f, i) => {
    const y = top + i * ROW_H;
    if (i % 2 === 1)
      parts.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${ROW_H}" fill="#f7f7f7" fill-opacity="0.7"/>`);
    parts.push(`<text x="16" y="${y + 19}" font-weight="600">${escapeXml(f.title)}</text>`);
    if (!Number.isFinite(f.ratio)) {
      parts.push(
        `<text x="16" y="${y + 36}" fill="#757575" font-size="11.5">${escapeXml(f.skipped ?? 'no result in this run')}</text>`,
      );
      parts.push(`<text x="${PLOT_X0 + 8}" y="${y + 27}" fill="#757575">not measured</text>`);
      return;
    }
    const better = f.better === 'higher' ? 'higher is better' : 'lower is better';
    const failed = f.errors?.length ? ` · ${f.errors.length} failed trial${f.errors.length > 1 ? 's' : ''}` : '';
    const detail = `${fmtValue(f.greenloop.median, f.unit)} vs ${fmtValue(f.baseline.median, f.unit)} ${f.baseline.label} · ${better}${failed}`;
    parts.push(`<text x="16" y="${y + 36}" fill="#555" font-size="11.5">${escapeXml(detail)}</text>`);
    const colour = f.met === true ? COLOURS.met : f.met === false ? COLOURS.missed : COLOURS.unknown;
    const x1 = x(1);
    const xr = x(f.ratio);
    const barX = Math.min(x1, xr);
    const barW = Math.max(2, Math.abs(xr - x1));
    parts.push(
      `<rect class="bar" data-figure="${escapeXml(f.id)}" x="${barX.toFixed(1)}" y="${y + 13}" width="${barW.toFixed(1)}" height="20" rx="2" fill="${colour}">` +
        `<title>${escapeXml(`${f.title}: ${fmtRatio(f.ratio)} (target ${f.target.text}${f.met === null ? '' : f.met ? ', met' : ', not met'})`)}</title></rect>`,
    );
    if (Number.isFinite(f.target?.ratio)) {
      const tx = x(f.target.ratio);
      parts.push(
        `<line class="target" x1="${tx.toFixed(1)}" y1="${y + 9}" x2="${tx.toFixed(1)}" y2="${y + 37}" stroke="${COLOURS.target}" stroke-width="2"/>`,
        `<path d="M${(tx - 5).toFixed(1)} ${y + 3} L${(tx + 5).toFixed(1)} ${y + 3} L${tx.toFixed(1)} ${y + 10} Z" fill="${COLOURS.target}"><title>${escapeXml(`target ${f.target.text}`)}</title></path>`,
      );
    }
    for (const s of f.beside ?? []) {
      if (!Number.isFinite(s.ratio) || s.ratio <= 0) continue;
      parts.push(
        `<circle cx="${x(s.ratio).toFixed(1)}" cy="${y + 23}" r="4.5" fill="#ffffff" stroke="${COLOURS.beside}" stroke-width="2"><title>${escapeXml(`${s.label}: ${fmtRatio(s.ratio)} of the baseline`)}</title></circle>`,
      );
    }
    // Last, so that no marker hides it.
    const labelRight = xr >= x1;
    parts.push(
      `<text x="${(labelRight ? xr + 5 : xr - 5).toFixed(1)}" y="${y + 28}" text-anchor="${labelRight ? 'start' : 'end'}" font-weight="600" fill="${colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(fmtRatio(f.ratio))}</text>`,
    );
  });
  const ly = bottom + 24;
  parts.push(
    `<rect x="16" y="${ly - 11}" width="14" height="12" fill="${COLOURS.met}"/><text x="36" y="${ly}">target met</text>`,
    `<rect x="126" y="${ly - 11}" width="14" height="12" fill="${COLOURS.missed}"/><text x="146" y="${ly}">target not met</text>`,
    `<line x1="266" y1="${ly - 13}" x2="266" y2="${ly + 2}" stroke="${COLOURS.target}" stroke-width="2"/><text x="274" y="${ly}">target (issue 12), as a ratio to this run's baseline</text>`,
    `<circle cx="610" cy="${ly - 5}" r="4.5" fill="#ffffff" stroke="${COLOURS.beside}" stroke-width="2"/><text x="620" y="${ly}">gevent / python-greenlet, same baseline</text>`,
    `<text x="16" y="${ly + 22}" fill="#555" font-size="11.5">Bars start at 1x (the baseline). Absolute targets (KiB, µs) are divided by this run's baseline. Made by scripts/plot-bench.js from bench/figures.js's JSON.</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

function main(argv) {
  const [input, output] = argv;
  if (!input || input.startsWith('-')) {
    console.error('usage: node scripts/plot-bench.js <figures.json> [<out.svg>]');
    return 2;
  }
  try {
    const svg = render(readFigures(input));
    const out = output ?? input.replace(/\.json$/, '') + '.svg';
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, svg);
    console.log(`wrote ${out}`);
    return 0;
  } catch (error) {
    console.error(error.message);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = { render, readFigures };
