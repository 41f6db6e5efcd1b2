/** `tapeflow replay <args> --serve --port 0` as a real child process; resolves with its URL once it serves. */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './data.js';

export async function serveReplay(args: string[]): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['bin/tapeflow.js', 'replay', ...args, '--serve', '--port', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (b) => { out += b; const m = /serving on (http:\/\/[\d.:]+)/.exec(out); if (m) ok(m[1]); });
    proc.on('exit', (c) => fail(new Error(`replay exited ${c}: ${out}`)));
  });
  return { proc, url };
}
