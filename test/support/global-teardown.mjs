export default async function globalTeardown() {
  const held = globalThis.__LEEWAY_TEST_PG__;
  if (!held) return;
  await held.db.stop();
  const { rm } = await import('node:fs/promises');
  await rm(held.dir, { recursive: true, force: true });
}
