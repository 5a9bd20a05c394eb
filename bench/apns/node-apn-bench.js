// The peer in bench/apns: @parse/node-apn (certificate auth) sending N distinct MDM pushes with
// at most WINDOW in flight, to the same APNs simulator. Prints one JSON line like apns-bench.
// usage: node node-apn-bench.js PORT CERT KEY CA TOPIC COUNT WINDOW TOKEN_OFFSET
const fs = require('fs');
const apn = require('@parse/node-apn');

const [port, certFile, keyFile, caFile, topic, countText, windowText, offsetText] =
    process.argv.slice(2);
const count = parseInt(countText, 10);
const window = parseInt(windowText, 10);
const offset = BigInt(offsetText);

const provider = new apn.Provider({
  cert: fs.readFileSync(certFile),
  key: fs.readFileSync(keyFile),
  ca: fs.readFileSync(caFile),
  address: 'localhost:' + port,
  port: parseInt(port, 10),
  requestTimeout: 60000,
});

function token(n) { return n.toString(16).padStart(64, '0'); }
function note(i) {
  const n = new apn.Notification();
  n.rawPayload = {mdm: '11111111-2222-3333-4444-' + (100000000000 + i)};
  n.topic = topic;
  n.pushType = 'mdm';
  n.priority = 10;
  return n;
}

async function main() {
  const warm = await provider.send(note(-1), token(offset + BigInt(count) + 1000000n));
  if (warm.sent.length !== 1) throw new Error('warm-up failed: ' + JSON.stringify(warm.failed));
  let next = 0, delivered = 0, failed = 0;
  const start = process.hrtime.bigint();
  async function worker() {
    while (next < count) {
      const i = next++;
      const r = await provider.send(note(i), token(offset + BigInt(i)));
      delivered += r.sent.length;
      failed += r.failed.length;
    }
  }
  await Promise.all(Array.from({length: window}, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rss = fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)[1];
  console.log(JSON.stringify({client: '@parse/node-apn', pushes: count, delivered, failed, seconds,
                              rate: count / seconds, peak_rss_kb: parseInt(rss, 10),
                              max_in_flight: window}));
  provider.shutdown();
}
main().catch((e) => { console.error(e); process.exit(1); });
