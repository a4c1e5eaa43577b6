import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * A clock the tests set, shared by every process started with `env`: libfaketime reads the offset
 * from a file on each call, so the service and its PostgreSQL move together, and time keeps running
 * from whatever the test last set.
 */
export class FakeClock {
  readonly file: string;

  constructor(dir: string, start: string) {
    if (!existsSync(LIBFAKETIME)) {
      throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime (.ci/run installs it)`);
    }
    this.file = join(dir, 'faketime');
    this.set(start);
  }

  /**
   * `2026-11-01 00:05:00` (UTC): from now on every clock reads this, then runs on. Written as an
   * offset from the real clock, so that every process (each PostgreSQL backend included, whenever it
   * started) reads the same time.
   */
  set(at: string): void {
    const offset = Math.round((Date.parse(`${at.replace(' ', 'T')}Z`) - Date.now()) / 1000);
    // Written aside and renamed: a process must never read a half-written (empty) file, which
    // libfaketime would take as the real time.
    writeFileSync(`${this.file}.next`, `${offset >= 0 ? '+' : ''}${offset}\n`, { mode: 0o644 });
    renameSync(`${this.file}.next`, this.file);
  }

  get env(): Record<string, string> {
    return {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_TIMESTAMP_FILE: this.file,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_RESET: '1',
      // Timers (libuv, PostgreSQL's timeouts) keep real time: only the wall clock jumps.
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
      TZ: 'UTC',
    };
  }
}
