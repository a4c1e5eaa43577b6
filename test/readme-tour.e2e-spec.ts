import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from './support/database';
import { spawnService, SpawnedService, stopAll } from './support/process';
import { OutputMatcher, readTour, splitOutput, Tour, tourScript } from './support/readme-tour';
import { freePort, ROOT } from './support/service-process';

const HEADING = '## A first tour with curl';
const TOOLS = ['bash', 'curl', 'jq'];

function missingTools(): string[] {
  return TOOLS.filter((tool) => spawnSync('bash', ['-c', `command -v ${tool}`]).status !== 0);
}

function runBash(script: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-s'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.once('error', fail);
    child.once('exit', () => done({ stdout, stderr }));
    child.stdin.end(script);
  });
}

describe('README: the curl tour runs as pasted', () => {
  const tour: Tour = readTour(readFileSync(join(ROOT, 'README.md'), 'utf8'), HEADING);
  const firstTerminal = tour.otherBlocks.join('\n');
  const token = /export LEEWAY_BOOTSTRAP_TOKEN=(\S+)/.exec(firstTerminal)?.[1];

  it('is written so a test can follow it', () => {
    expect(firstTerminal).toMatch(/^npm start$/m);
    expect(token).toBeDefined();
    expect(tour.steps.length).toBeGreaterThan(5);
    for (const step of tour.steps) {
      // The second terminal starts nothing and reaches the service through LEEWAY_URL only.
      const code = step.commands.filter((l) => !l.trimStart().startsWith('#')).join('\n');
      expect(code).not.toMatch(/\bnpm (start|run)\b|localhost:3000\//);
    }
    expect(tour.steps[0].commands.join('\n')).toContain(`export LEEWAY_BOOTSTRAP_TOKEN=${token}`);
    expect(tour.steps[0].commands.join('\n')).toContain('${LEEWAY_URL:-http://localhost:3000}');
    expect(tour.steps.every((s) => s.expected.length > 0)).toBe(true);
  });

  it('tells a wrong value, a wrong shape and a reused id apart from a match', () => {
    const sut = new OutputMatcher();
    const doc = ['{"id":"6f1d2c3b-8a4e-4b7f-9d2e-0c5a1b3e7f90","at":"2026-01-02T03:04:05.678Z","n":1}'];
    expect(
      sut.mismatch(doc, '{"id":"0ea8c2a9-d5c8-4ded-9eec-f1e76e5f1d4a","at":"2026-12-01T22:00:00Z","n":1}\n'),
    ).toBeNull();
    expect(sut.mismatch(doc, '{"id":"0ea8c2a9-d5c8-4ded-9eec-f1e76e5f1d4a","at":"2026-12-01T22:00:00Z","n":2}\n')).toBe(
      'line 1 differs',
    );
    expect(sut.mismatch(doc, '{"id":"null","at":"2026-12-01T22:00:00Z","n":1}\n')).toBe('line 1 differs');
    expect(
      sut.mismatch(doc, '{"id":"11111111-d5c8-4ded-9eec-f1e76e5f1d4a","at":"2026-12-01T22:00:00Z","n":1}\n'),
    ).toMatch(/stood for 0ea8c2a9/);
    expect(sut.mismatch([], 'surprise\n')).toBe('printed 1 line(s), documented 0');
    expect(sut.mismatch(['x'], 'x')).toBe('the output does not end with a newline');
  });

  describe('against the service started as a process', () => {
    let db: TestDatabase;
    let service: SpawnedService;
    let url: string;

    beforeAll(async () => {
      const missing = missingTools();
      if (missing.length > 0)
        throw new Error(`the README tour needs ${missing.join(' and ')} on PATH: apt-get install ${missing.join(' ')}`);
      db = await createTestDatabase();
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      // Not awaited: the tour's first command must itself wait for the service, as a newcomer's does.
      service = spawnService({
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        LEEWAY_BOOTSTRAP_TOKEN: token ?? '',
        LOG_LEVEL: 'warn',
      });
    }, 120_000);

    afterAll(async () => {
      await stopAll();
      await db?.drop();
    });

    it('prints what the README documents, command after command', async () => {
      const { stdout, stderr } = await runBash(tourScript(tour.steps), {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        LANG: 'C.UTF-8',
        LEEWAY_URL: url,
      });
      const printed = splitOutput(stdout);
      const sut = new OutputMatcher();
      tour.steps.forEach((step, i) => {
        const actual = printed[i];
        const why = actual === undefined ? 'the script stopped before this step' : sut.mismatch(step.expected, actual);
        if (why)
          throw new Error(
            [
              `README line ${step.line}: ${why}`,
              step.commands.join('\n'),
              '--- documented',
              ...step.expected,
              '--- printed',
              actual ?? '',
              '--- stderr of the whole tour',
              stderr,
              '--- service output',
              service.output(),
            ].join('\n'),
          );
      });
      expect(printed).toHaveLength(tour.steps.length);
    }, 240_000);
  });
});
