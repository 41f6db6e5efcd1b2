/**
 * The replay transport of `tapeflow replay --serve`, at /replay (behind the server's host/origin
 * checks; other servers answer {available: false} there): GET → the feed status {available: true, playing, speed, fed, total, position, first, last, done};
 * POST {"op":"pause"} | {"op":"play"} | {"op":"speed","speed":N|"max"} | {"op":"seek","ts":ms} → the
 * new status. A forward seek feeds up to ts at once; an earlier time is served by `rewind` (replay
 * --serve: a fresh engine fed from the files' start up to ts, deterministic) or, without one, a 409.
 */
import type { FeedHandle } from '../../../../datafeed-adapter/src/service/serve-replay.js';

const json = (body: unknown, status = 200): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

export async function transport(req: Request, feed: () => FeedHandle | null, rewind?: (ts: number) => Promise<FeedHandle>): Promise<Response> {
  let f = feed();
  if (!f) return json({ error: 'not ready', reason: 'the replay files are still loading' }, 503);
  if (req.method === 'GET') return json({ available: true, ...f.status() });
  if (req.method !== 'POST') return json({ error: 'method not allowed', reason: 'GET or POST' }, 405);
  let b: { op?: unknown; speed?: unknown; ts?: unknown };
  try { b = JSON.parse(await req.text()) as typeof b; } catch { return json({ error: 'bad request', reason: 'body must be JSON {op, …}' }, 400); }
  switch (b?.op) {
    case 'pause': f.pause(); break;
    case 'play': f.play(); break;
    case 'speed':
      if (!(b.speed === 'max' || (typeof b.speed === 'number' && b.speed > 0 && b.speed <= 10_000))) return json({ error: 'bad request', param: 'speed', reason: 'a number in (0, 10000] or "max"' }, 400);
      f.setSpeed(b.speed as number | 'max'); break;
    case 'seek':
      if (typeof b.ts !== 'number' || !Number.isFinite(b.ts)) return json({ error: 'bad request', param: 'ts', reason: 'ts: Unix ms' }, 400);
      if (!f.seek(b.ts)) {
        if (!rewind) return json({ error: 'conflict', param: 'ts', reason: `seek goes forward only: the replay is at ${f.status().position}` }, 409);
        f = await rewind(b.ts);
        return json({ available: true, rewound: true, ...f.status() });
      }
      break;
    default: return json({ error: 'bad request', param: 'op', reason: 'op: pause | play | speed | seek' }, 400);
  }
  return json({ available: true, ...f.status() });
}
