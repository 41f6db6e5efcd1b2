/**
 * `npm run bench`: one JSON line per case. Cases run in one process, cheapest first (peakRssMB is
 * the process peak so far). Select cases with BENCH=name1,name2.
 */
import { benchPipeline } from './cases/pipeline.js';
import { benchBook } from './cases/book.js';
import { benchHistory } from './cases/history.js';
import { benchFanout } from './cases/fanout.js';
import { benchFanoutFloor } from './cases/fanout-floor.js';
import { benchFeeds } from './cases/feeds.js';
import { benchRender } from './cases/render.js';
import { benchWorkstation } from './cases/workstation.js';
import { benchAlerts } from './cases/alerts.js';
import { benchMt5, benchMt5Shim } from './cases/mt5.js';
import { benchMemory } from './cases/memory.js';
import { benchReplay } from './cases/replay.js';
import { benchRestart } from './cases/restart.js';
import { benchHostile } from './cases/hostile.js';
import { benchCluster } from './cases/cluster.js';

const cases: Record<string, () => Promise<void>> = {
  pipeline: () => benchPipeline(),
  memory: () => benchMemory(),
  replay: () => benchReplay(),
  book: () => benchBook(),
  history: () => benchHistory(),
  fanout: () => benchFanout(),
  'fanout-floor': () => benchFanoutFloor(),
  feeds: () => benchFeeds(),
  render: () => benchRender(),
  workstation: () => benchWorkstation(),
  alerts: () => benchAlerts(),
  mt5: () => benchMt5(),
  'mt5-shim': () => benchMt5Shim(),
  restart: () => benchRestart(),
  hostile: () => benchHostile(),
  cluster: () => benchCluster(),
};

const only = process.env.BENCH?.split(',').filter(Boolean);
for (const [name, fn] of Object.entries(cases)) {
  if (only && !only.includes(name)) continue;
  await fn();
}
