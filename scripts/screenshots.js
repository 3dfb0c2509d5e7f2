'use strict';
// Regenerates the screenshots of docs/debugging.md (docs/images/profile-devtools-*.png): profiles
// scripts/profile-workload.js with greenloop's own profile(), opens the
// .cpuprofile in Chromium's DevTools (the front end that headless Chromium
// serves on its remote-debugging port, Performance panel, "Load profile"),
// and drives it over the Chrome DevTools Protocol (a WebSocket: no dependency
// beyond Node).
//
//   npm run build && node scripts/screenshots.js [outdir]   (default docs/images)
//
// CHROMIUM=/path/to/chromium picks the browser (default /usr/bin/chromium).
// Node 20 has WebSocket behind --experimental-websocket: the script re-runs
// itself with it. The network is not needed: everything is on 127.0.0.1.
// The DevTools selectors below are those of Chromium 150 (Debian 12): a
// front end that moved them makes the script stop with the one it missed.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
/* global WebSocket -- a global from Node 22 on, and on Node 20 under the flag below */

if (typeof WebSocket === 'undefined') {
  const again = spawnSync(process.execPath, ['--experimental-websocket', __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(again.status ?? 1);
}

const root = path.resolve(__dirname, '..');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'docs/images'));
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WIDTH = 1400;
const HEIGHT = 900;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the workload under profile() and returns the profile's path and JSON. */
function makeProfile(dir) {
  const file = path.join(dir, 'greenloop.cpuprofile');
  const run = spawnSync(process.execPath, [path.join(__dirname, 'profile-workload.js'), file], {
    cwd: root,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`the workload failed:\n${run.stdout}${run.stderr}`);
  process.stdout.write(run.stdout);
  // Files of this checkout show as greenloop/...: the pictures do not depend on where it is.
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const here = `${pathToFileURL(root).href}/`;
  for (const node of profile.nodes) {
    const { url } = node.callFrame;
    if (url.startsWith(here)) node.callFrame.url = `greenloop/${url.slice(here.length)}`;
  }
  fs.writeFileSync(file, JSON.stringify(profile));
  return { file, profile };
}

/** The longest run of consecutive samples in the greenlet named `name`, as [start, end] µs after startTime. */
function longestRun(profile, name) {
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const greenletOf = (id) => {
    while (parent.has(id) && parent.get(id) !== 1) id = parent.get(id);
    return byId.get(id).callFrame.functionName;
  };
  let at = 0;
  let best = [0, 0];
  let start = null;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    const inside = greenletOf(id).startsWith(`greenlet "${name}"`);
    if (inside && start === null) start = at - profile.timeDeltas[i];
    if (!inside && start !== null) {
      if (at - start > best[1] - best[0]) best = [start, at];
      start = null;
    }
  });
  return best;
}

/** Starts headless Chromium on a fresh profile; resolves with the process and its debugging port. */
function startChromium(dir) {
  const child = spawn(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${path.join(dir, 'chromium')}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      `--window-size=${WIDTH},${HEIGHT}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${err}`)), 30_000);
    child.on('error', reject);
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const match = /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    });
  });
}

/** A minimal CDP session on one page target. */
async function connect(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = targets.find((t) => t.type === 'page');
  const ws = new WebSocket(page.webSocketDebuggerUrl);
  const pending = new Map();
  let seq = 0;
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    const waiting = pending.get(msg.id);
    if (waiting === undefined) return;
    pending.delete(msg.id);
    if (msg.error) waiting.reject(new Error(`${waiting.method}: ${msg.error.message}`));
    else waiting.resolve(msg.result);
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject, method });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

// DevTools is made of nested shadow roots: find the first match at any depth.
const deepQuery = (selector) => `(() => {
  const walk = (root) => {
    const hit = root.querySelector(${JSON.stringify(selector)});
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const h = walk(el.shadowRoot); if (h) return h; }
    return null;
  };
  return walk(document);
})()`;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenloop-screenshots-'));
  const { file, profile } = makeProfile(dir);
  const { child, port } = await startChromium(dir);
  try {
    const cdp = await connect(port);
    const evaluate = async (expression) =>
      (await cdp.send('Runtime.evaluate', { expression, returnByValue: true })).result.value;
    const waitFor = async (selector, what) => {
      for (let i = 0; i < 100; i++) {
        if (await evaluate(`!!${deepQuery(selector)}`)) return;
        await delay(200);
      }
      throw new Error(`DevTools never showed ${what} (${selector})`);
    };
    const centre = async (selector) => {
      const box = await evaluate(`(() => { const b = ${deepQuery(selector)}?.getBoundingClientRect();
        return b ? [b.x + b.width / 2, b.y + b.height / 2] : null; })()`);
      if (box === null) throw new Error(`DevTools has no ${selector}`);
      return box;
    };
    const mouse = (type, x, y, extra = {}) =>
      cdp.send('Input.dispatchMouseEvent', { type, x, y, button: 'left', clickCount: 1, ...extra });
    const click = async (selector) => {
      const [x, y] = await centre(selector);
      await mouse('mousePressed', x, y);
      await mouse('mouseReleased', x, y);
      await delay(300);
    };
    const drag = async ([x1, y1], [x2, y2]) => {
      await mouse('mousePressed', x1, y1);
      for (let i = 1; i <= 10; i++)
        await mouse('mouseMoved', x1 + ((x2 - x1) * i) / 10, y1 + ((y2 - y1) * i) / 10, { buttons: 1 });
      await mouse('mouseReleased', x2, y2);
      await delay(500);
    };
    const press = async (key, code, keyCode, times = 1) => {
      for (let i = 0; i < times; i++) {
        for (const type of ['rawKeyDown', 'keyUp'])
          await cdp.send('Input.dispatchKeyEvent', { type, key, code, windowsVirtualKeyCode: keyCode });
        await delay(150);
      }
    };
    const shoot = async (name) => {
      const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' });
      const out = path.join(outDir, name);
      fs.writeFileSync(out, Buffer.from(data, 'base64'));
      console.log(`wrote ${path.relative(process.cwd(), out)}`);
    };

    await cdp.send('Emulation.setDeviceMetricsOverride', {
      width: WIDTH,
      height: HEIGHT,
      deviceScaleFactor: 1,
      mobile: false,
    });
    await cdp.send('Page.navigate', { url: `http://127.0.0.1:${port}/devtools/devtools_app.html?panel=timeline` });
    await waitFor('input[type=file]', 'the Performance panel');
    const input = await cdp.send('Runtime.evaluate', { expression: deepQuery('input[type=file]') });
    await cdp.send('DOM.setFileInputFiles', { files: [file], objectId: input.result.objectId });
    await waitFor('#tab-call-tree', 'the loaded profile');
    await delay(1500);
    // First load: DevTools shows its flame-chart shortcuts and the annotations sidebar.
    await evaluate(`(() => { const d = ${deepQuery('dialog[open]')}; d?.close(); })()`);
    await evaluate(`${deepQuery('devtools-button[aria-label="Hide sidebar"]')}?.click()`);
    await delay(500);
    // A taller details pane, for the call tree.
    const splitter = await evaluate(`(() => { const out = [];
      const walk = (root) => { for (const el of root.querySelectorAll('.shadow-split-widget-resizer')) {
        const b = el.getBoundingClientRect(); if (b.width > b.height && b.width > 0) out.push([b.x + b.width / 2, b.y + b.height / 2]); }
        for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot); };
      walk(document); return out[0] ?? null; })()`);
    if (splitter !== null) await drag(splitter, [splitter[0], 330]);

    // 1. The call tree of the whole profile: one root per greenlet, the busy one opened down to its hot function.
    await click('#tab-call-tree');
    await waitFor('.data-grid-data-grid-node', 'the call tree');
    const rowTexts = await evaluate(`(() => { const out = [];
      const walk = (root) => { for (const el of root.querySelectorAll('tr.data-grid-data-grid-node')) out.push(el.textContent);
        for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot); };
      walk(document); return out; })()`);
    const busyRow = rowTexts.findIndex((text) => text.includes('greenlet "report-builder"'));
    if (busyRow < 0) throw new Error(`no report-builder row in the call tree: ${rowTexts.join(' / ')}`);
    await click('tr.data-grid-data-grid-node');
    await press('ArrowDown', 'ArrowDown', 40, busyRow);
    // entry, greenletMain, #main, buildMonthlyReport, countPrimes, isPrime: one level each.
    for (let level = 0; level < 6; level++) {
      await press('ArrowRight', 'ArrowRight', 39);
      await press('ArrowDown', 'ArrowDown', 40);
    }
    await delay(500);
    await shoot('profile-devtools-call-tree.png');

    // 2. The flame chart around the longest stretch of the busy greenlet, so its name fits on the bar.
    const [from, to] = longestRun(profile, 'report-builder');
    const span = profile.endTime - profile.startTime;
    const overview =
      await evaluate(`(() => { const b = ${deepQuery('#timeline-overview-container')}.getBoundingClientRect();
      return [b.x, b.y, b.width, b.height]; })()`);
    const x = (us) => overview[0] + (overview[2] * us) / span;
    const y = overview[1] + overview[3] / 2;
    await drag([x(Math.max(0, from - (to - from) * 0.4)), y], [x(Math.min(span, to + (to - from) * 0.6)), y]);
    await click('#tab-details');
    await delay(500);
    await shoot('profile-devtools-flame-chart.png');

    // 3. Bottom-up: the hot function first; opened, its callers lead back to the greenlet.
    await click('#tab-bottom-up');
    await waitFor('tr.data-grid-data-grid-node', 'the bottom-up tree');
    await click('tr.data-grid-data-grid-node');
    for (let level = 0; level < 6; level++) {
      await press('ArrowRight', 'ArrowRight', 39);
      await press('ArrowDown', 'ArrowDown', 40);
    }
    await press('ArrowRight', 'ArrowRight', 39);
    await delay(500);
    await shoot('profile-devtools-bottom-up.png');
    cdp.close();
  } finally {
    child.kill();
    await new Promise((resolve) => child.once('exit', resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
