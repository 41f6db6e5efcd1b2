// The engine from plain Node, no bundler: `node examples/node-api/replay.mjs <file> [instrument] [timeframe]`
// (in a project that installed tapeflow, the same import works; here it resolves to this package's dist/).
import { Engine, InstrumentRegistry, replayFile, pipelineReport } from 'tapeflow/engine';

const [file, instrument, timeframe = '1m'] = process.argv.slice(2);
if (!file) { console.error('usage: replay.mjs <file> [instrument] [timeframe]'); process.exit(2); }
const engine = new Engine(new InstrumentRegistry(), { timeframe });
const stats = await replayFile(file, engine.onEvent, { registry: engine.registry, instrument });
engine.finish();
console.log(`${stats.format}: ${stats.trades} trades, ${stats.badLines} bad lines`);
for (const p of engine.pipelines.values()) {
  const r = pipelineReport(p);
  console.log(`${r.instrument}: ${r.bars} bars, volume ${r.volume}, delta ${r.delta}, POC ${r.sessionProfile?.poc ?? '–'}, checksum ${r.checksum}`);
}
