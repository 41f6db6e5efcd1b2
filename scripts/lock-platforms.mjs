// The npm registry these machines reach serves only this platform's builds of packages that ship
// per-platform binaries as optional dependencies (@napi-rs/canvas-*, @msgpackr-extract/*): npm
// leaves the other variants out of package-lock.json, and then its own `npm ci` rejects the lock
// ("Missing: <variant>@ from lock file"). This drops the optional edges to variants the lock does
// not hold, so `npm ci` installs exactly what the lock lists. Run after any `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const pk = lock.packages;
let dropped = 0;
for (const entry of Object.values(pk)) {
  const opt = entry.optionalDependencies;
  if (!opt) continue;
  for (const name of Object.keys(opt)) {
    if (pk[`node_modules/${name}`]) continue;
    delete opt[name];
    dropped++;
  }
  if (Object.keys(opt).length === 0) delete entry.optionalDependencies;
}
writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
process.stdout.write(`lock-platforms: ${dropped} optional edges to unavailable platform variants dropped\n`);
