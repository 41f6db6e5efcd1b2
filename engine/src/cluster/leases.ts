/**
 * Instrument leases in the JetStream KV bucket tf_leases: `lease.<instrument>` holds the owning
 * node id; it is taken with create() (fails if present) and renewed with update() on the revision
 * last seen (compare-and-set), so two nodes never both hold it. The bucket's TTL expires a lease
 * a dead node stopped renewing. `node.<id>` keys (same TTL) tell how many engine nodes are alive,
 * so each takes at most its fair share: ceil(instruments / alive nodes).
 */
import type { KV } from '@nats-io/kv';
import { token } from './subjects.js';

export const leaseKey = (instrument: string): string => `lease.${token(instrument)}`;
export const nodeKey = (node: string): string => `node.${token(node)}`;

export interface LeaseChange { acquired: string[]; lost: string[] }

export class Leases {
  /** instrument → KV revision of our lease */
  readonly held = new Map<string, number>();
  private nodeRev = 0;
  private rounds = 0;

  constructor(private readonly kv: KV, private readonly node: string, private readonly instruments: readonly string[]) {}

  private async aliveNodes(): Promise<number> {
    let n = 0;
    const it = await this.kv.keys('node.>');
    for await (const _ of it) n++;
    return Math.max(1, n);
  }

  /** One round: renew what we hold (dropping any lease lost), then take free ones up to our share. */
  async tick(): Promise<LeaseChange> {
    const enc = new TextEncoder().encode(this.node);
    // our own heartbeat first, so the share counts us
    try { this.nodeRev = this.nodeRev ? await this.kv.update(nodeKey(this.node), enc, this.nodeRev) : await this.kv.put(nodeKey(this.node), enc); }
    catch { this.nodeRev = await this.kv.put(nodeKey(this.node), enc); }
    const lost: string[] = [];
    for (const [id, rev] of this.held) {
      try { this.held.set(id, await this.kv.update(leaseKey(id), enc, rev)); }
      catch { this.held.delete(id); lost.push(id); }
    }
    const share = Math.ceil(this.instruments.length / (await this.aliveNodes()));
    const acquired: string[] = [];
    // the first round only announces this node, so nodes started together share from the start
    if (this.rounds++ === 0) return { acquired, lost };
    // more than our share (nodes joined): hand one back per round, the others pick it up
    if (this.held.size > share) {
      const [id, rev] = [...this.held][this.held.size - 1];
      this.held.delete(id);
      await this.kv.delete(leaseKey(id), { previousSeq: rev }).catch(() => {});
      lost.push(id);
    }
    for (const id of this.instruments) {
      if (this.held.size >= share) break;
      if (this.held.has(id)) continue;
      const e = await this.kv.get(leaseKey(id));
      if (e && e.operation === 'PUT') continue; // someone holds it
      try {
        const rev = e ? await this.kv.update(leaseKey(id), enc, e.revision) : await this.kv.create(leaseKey(id), enc);
        this.held.set(id, rev);
        acquired.push(id);
      } catch { /* another node won the race */ }
    }
    return { acquired, lost };
  }

  /** Give everything back (clean shutdown: the others take over at once instead of after the TTL). */
  async release(): Promise<void> {
    for (const [id, rev] of this.held) await this.kv.delete(leaseKey(id), { previousSeq: rev }).catch(() => {});
    this.held.clear();
    await this.kv.delete(nodeKey(this.node)).catch(() => {});
  }
}
