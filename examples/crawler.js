'use strict';
// A concurrent crawler in blocking style: 10 worker greenlets take URLs from
// a queue and fetch them with the green HTTP client, following links, against
// a local site that this script serves itself (a green HTTP server with slow pages).
//
//   npm run build:ts && node examples/crawler.js
const { spawn, sleep, JoinableQueue, killall } = require('greenloop');
const http = require('greenloop/http');

// ---- the site: 60 pages, each linking to a few others, each taking 50 ms
const PAGES = 60;
const site = http.createServer((req, res) => {
  const n = Number(/^\/page\/(\d+)$/.exec(req.url)?.[1] ?? -1);
  if (!(n >= 0 && n < PAGES)) return res.send('not found', 404);
  sleep(50); // a slow backend: only this request's greenlet waits
  const links = [1, 7, 13].map((k) => `<a href="/page/${(n * k + k) % PAGES}">`).join(' ');
  res.setHeader('content-type', 'text/html');
  res.send(`<title>Page ${n}</title> ${links}`);
});

// ---- the crawler
function crawl(base, start, concurrency) {
  const todo = new JoinableQueue();
  const seen = new Set([start]);
  const titles = new Map();

  function worker() {
    for (;;) {
      const path = todo.get(); // parks until there is work
      try {
        const html = http.request(base + path, { timeout: 5000 }).text();
        titles.set(path, /<title>(.*?)<\/title>/.exec(html)?.[1] ?? '?');
        for (const [, link] of html.matchAll(/href="([^"]+)"/g)) {
          if (!seen.has(link)) {
            seen.add(link);
            todo.put(link);
          }
        }
      } catch (error) {
        console.error(`${path}: ${error.message}`);
      } finally {
        todo.taskDone();
      }
    }
  }

  const workers = Array.from({ length: concurrency }, () => spawn(worker));
  todo.put(start);
  todo.join(); // parks until every queued page was crawled
  killall(workers);
  return titles;
}

spawn(() => {
  const { port } = site.listen(0, '127.0.0.1');
  const t0 = Date.now();
  const titles = crawl(`http://127.0.0.1:${port}`, '/page/0', 10);
  const ms = Date.now() - t0;
  console.log(`crawled ${titles.size} pages in ${ms} ms with 10 greenlets`);
  console.log(`(one at a time it would take at least ${titles.size * 50} ms)`);
  console.log([...titles.values()].slice(0, 8).join(', '), '...');
  site.close();
});
