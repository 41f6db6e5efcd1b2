/**
 * Vitest globalSetup for browser tests: makes sure a Debian Chromium exists at /usr/bin/chromium.
 * When it is missing and we run as root, it is installed with apt-get; otherwise setup fails loudly
 * (browser tests are never skipped silently). Also usable directly: `await ensureChromium()`.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const CHROMIUM = process.env.TAPEFLOW_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let ensured: Promise<string> | null = null;

export function ensureChromium(): Promise<string> {
  ensured ??= (async () => {
    if (existsSync(CHROMIUM)) return CHROMIUM;
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!root) throw new Error(`${CHROMIUM} is missing and we are not root: install it with "apt-get install -y chromium"`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env, timeout: 900_000 });
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'inherit', env, timeout: 300_000 });
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env, timeout: 900_000 });
    }
    if (!existsSync(CHROMIUM)) throw new Error(`apt-get install chromium finished but ${CHROMIUM} does not exist`);
    return CHROMIUM;
  })();
  return ensured;
}

export default async function setup(): Promise<void> {
  await ensureChromium();
}
