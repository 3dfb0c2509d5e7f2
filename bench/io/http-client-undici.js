'use strict';
// The same load with undici.request and Promise.all over --greenlets async
// workers (the same concurrency). Prints RESULT {"ms": [per-round ms...]}.
//   node bench/io/http-client-undici.js --url U [--requests 1000] [--greenlets 50] [--rounds 6]
const { request } = require('undici');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const URL_ = args.url;
const REQUESTS = Number(args.requests ?? 1000);
const WORKERS = Number(args.greenlets ?? 50);
const ROUNDS = Number(args.rounds ?? 6);

async function main() {
  const ms = [];
  for (let round = 0; round < ROUNDS; round++) {
    let next = 0;
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < REQUESTS) {
          next++;
          const res = await request(URL_);
          const text = await res.body.text();
          bytes += text.length;
        }
      }),
    );
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (bytes !== REQUESTS * 11) throw new Error(`unexpected byte count ${bytes}`);
  }
  console.log(`RESULT ${JSON.stringify({ ms: ms.slice(1) })}`);
}

main();
