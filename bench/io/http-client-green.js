'use strict';
// Green HTTP client load: --requests requests spread over --greenlets
// greenlets, each doing http.request(url).text() in a loop. Repeats the
// batch --rounds times (the first is a warm-up) and prints
// RESULT {"ms": [per-round ms...]}.
//   node bench/io/http-client-green.js --url U [--requests 1000] [--greenlets 50] [--rounds 6]
const { spawn } = require('../../dist/cjs/index.js');
const http = require('../../dist/cjs/io/http.js');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const URL_ = args.url;
const REQUESTS = Number(args.requests ?? 1000);
const GREENLETS = Number(args.greenlets ?? 50);
const ROUNDS = Number(args.rounds ?? 6);

spawn(() => {
  const ms = [];
  for (let round = 0; round < ROUNDS; round++) {
    let next = 0;
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    const workers = [];
    for (let g = 0; g < GREENLETS; g++) {
      workers.push(
        spawn(() => {
          while (next < REQUESTS) {
            next++;
            const text = http.request(URL_).text(); // read before adding: `bytes +=` would read bytes before parking
            bytes += text.length;
          }
        }),
      );
    }
    for (const w of workers) w.get();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (bytes !== REQUESTS * 11) throw new Error(`unexpected byte count ${bytes}`);
  }
  console.log(`RESULT ${JSON.stringify({ ms: ms.slice(1) })}`);
});
