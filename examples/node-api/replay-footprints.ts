/**
 * The engine as a library: replay a capture file, print the last footprint bars as text, and write a
 * PNG of footprint + profile (the same renderer the charts use, via @napi-rs/canvas).
 *
 *   npx esbuild examples/node-api/replay-footprints.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/replay-footprints.mjs && \
 *   node dist/replay-footprints.mjs ../shared/data/binance/usdm_btcusdt_20240808.gz 5S
 */
import { writeFileSync } from 'node:fs';
import { serveReplay } from '../../datafeed-adapter/src/service/serve-replay.js';
import { fromApiBar } from '../../indicators/render/prepare.js';
import { renderFootprintPng } from '../../indicators/render/node-png.js';

const [file, resolution = '1', out = 'footprint.png'] = process.argv.slice(2);
if (!file) { console.error('usage: replay-footprints <capture.gz> [resolution] [out.png]'); process.exit(2); }

// replay at max speed into an engine behind an (unexposed, loopback) service; staticDir off
const h = await serveReplay([file], { speed: 'max', server: { port: 0, staticDir: false } });
await h.done;
const symbol = [...h.engine.pipelines.keys()][0];
const fp = h.service.footprint(symbol, { agg: 'time', resolution, from: 0, to: Date.now(), countback: 12, rows: true }) as { bars: Record<string, any>[] };
const bars = fp.bars.slice(-12).map(fromApiBar);
for (const b of bars) {
  console.log(`${new Date(b.time).toISOString()}  O ${b.open} H ${b.high} L ${b.low} C ${b.close}  vol ${b.volume}  Δ ${b.delta}  POC ${b.poc}`);
  for (const r of [...b.rows].reverse()) console.log(`    ${String(r.price).padStart(12)}  ${String(r.bid).padStart(10)} x ${String(r.ask).padEnd(10)}`);
}
writeFileSync(out, renderFootprintPng(bars, null, { width: 1200, height: 700, title: `${symbol} ${resolution}` }));
console.log(`wrote ${out}`);
await h.close();
