// Prints what each screen makes a browser download (gzipped), from Vite's manifest, and fails the
// build when the agent screen's share passes 100 KiB: an agent with a customer waiting gets
// the shell and the agent screen, never the charts.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const out = resolve(import.meta.dirname, '../../../dist/web');
const manifest = JSON.parse(readFileSync(join(out, '.vite/manifest.json'), 'utf8'));
const gz = (file) => gzipSync(readFileSync(join(out, file))).length;

/** Every file a chunk needs, statically (what loads before it can run). */
function closure(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const dep of manifest[key]?.imports ?? []) closure(dep, seen);
  return seen;
}
function files(keys) {
  const list = new Set();
  for (const key of keys) {
    const entry = manifest[key];
    list.add(entry.file);
    for (const css of entry.css ?? []) list.add(css);
  }
  return [...list];
}
const entry = Object.keys(manifest).find((k) => k.endsWith('index.html'));
const screens = Object.keys(manifest).filter((k) => k.includes('screens/'));
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
let agentBytes = 0;
console.log('web app, gzipped, per screen (shell included):');
for (const screen of screens) {
  const all = files(new Set([...closure(entry), ...closure(screen)]));
  const bytes = all.reduce((sum, f) => sum + gz(f), 0);
  if (screen.includes('screens/agent')) agentBytes = bytes;
  console.log(`  ${screen.replace(/^.*screens\//, '').padEnd(16)} ${kib(bytes)}`);
}
const LIMIT = 100 * 1024;
if (agentBytes === 0) throw new Error('no agent screen chunk in the manifest');
if (agentBytes > LIMIT) {
  console.error(`the agent screen needs ${kib(agentBytes)} gzipped: more than ${kib(LIMIT)}`);
  process.exit(1);
}
