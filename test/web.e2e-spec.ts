import AxeBuilder from '@axe-core/playwright';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Locator, Page, Route } from 'playwright-core';
import {
  createRole,
  createTeam,
  createUser,
  creditBody,
  postCredit,
  setLimits,
  signInWithLink,
  TestUser,
} from './support/factories';
import { TestApp } from './support/app';
import { backdate } from './support/backdate';
import { launchChromium } from './support/browser';
import { ROOT } from './support/service-process';

/**
 * The web app in a real browser (Debian's Chromium, driven by Playwright) against the real service
 * and database: each access level's main journey, by keyboard where a person would, with axe-core
 * on every screen and a screenshot of each for the README.
 */

const SHOTS = join(ROOT, 'test', 'screenshots');
let t: TestApp;
let browser: Browser;
let base: string;
let roleId: string;
const people = {} as Record<'agent' | 'leader' | 'finance' | 'auditor' | 'admin', TestUser & { session: string }>;

async function seeText(locator: Locator, text: string | RegExp): Promise<void> {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: 15_000 });
  } catch (e) {
    // Say what the page showed instead: a timeout alone does not tell a slow answer from a wrong one.
    const shown = await locator
      .page()
      .locator('[role=alert], [role=status], #answer')
      .allInnerTexts()
      .catch(() => []);
    throw new Error(`${(e as Error).message}\nThe page showed instead: ${JSON.stringify(shown)}`);
  }
}

/**
 * Waits until the first input matching `selector` holds a value that contains `part`. Polled from
 * here: `page.waitForFunction` re-evaluates a string with `eval` in the page once it has to poll,
 * and the app's CSP (rightly) refuses that.
 */
async function seeValue(page: Page, selector: string, part: string): Promise<string> {
  const input = page.locator(selector).first();
  const deadline = Date.now() + 15_000;
  let value = '';
  while (Date.now() < deadline) {
    value = await input.inputValue({ timeout: 1_000 }).catch(() => '');
    if (value.includes(part)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${selector} never held "${part}" within 15 s (last value: "${value}")`);
}

/**
 * Where the sign-in page sends a tab once signed in: the session in the fragment, and the mark
 * the tab set before leaving (see src/web/app/session.ts), set here as the sign-in page would.
 */
function signedInUrl(path: string, session: string): string {
  return `${base}${path}${path.includes('?') ? '&' : '?'}signin=e2e-mark#session=${session}`;
}

async function expectingSignIn(context: BrowserContext): Promise<void> {
  await context.addInitScript(`sessionStorage.setItem('leeway.pending', 'e2e-mark')`);
}

/** A signed-in browser tab: the session arrives in the fragment, as after signing in. */
async function signedIn(who: keyof typeof people, path = '/', options: { locale?: string; width?: number } = {}) {
  const context: BrowserContext = await browser.newContext({
    locale: options.locale ?? 'en-GB',
    viewport: { width: options.width ?? 1100, height: 900 },
    acceptDownloads: true,
  });
  await expectingSignIn(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && errors.push(m.text()));
  await page.goto(signedInUrl(path, people[who].session));
  await page.locator('#who').waitFor();
  return { page, errors };
}

/** No serious or critical accessibility issue on what the page shows now. */
async function accessible(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect({ screen, bad }).toEqual({ screen, bad: [] });
}

/**
 * Everything a person can operate on the screen is reached by Tab alone, in order, and shows where
 * focus is: no control that only a mouse can reach.
 */
async function keyboardReachable(page: Page, screen: string): Promise<void> {
  const CONTROLS = `a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea`;
  const all = await page.evaluate<string[]>(
    `[...document.querySelectorAll('${CONTROLS}')].map((el, i) => (el.dataset.kb = 'c' + i))`,
  );
  await page.evaluate(`document.activeElement && document.activeElement.blur()`);
  const reached = new Set<string>();
  for (let i = 0; i < all.length * 2 + 5 && reached.size < all.length; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate<string>(`document.activeElement?.dataset?.kb ?? ''`);
    if (id) reached.add(id);
  }
  const missed = await page.evaluate<string[]>(
    `${JSON.stringify(all.filter((id) => !reached.has(id)))}.map((id) => document.querySelector('[data-kb="' + id + '"]').outerHTML.slice(0, 80))`,
  );
  expect({ screen, missed }).toEqual({ screen, missed: [] });
}

/**
 * Every POST /v1/credits the page sends passes through `answer` (with its number, from 1); the
 * Idempotency-Key of each is collected in the returned list.
 */
async function creditPosts(page: Page, answer: (n: number, route: Route) => Promise<void>): Promise<string[]> {
  const keys: string[] = [];
  await page.route('**/v1/credits', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    keys.push(route.request().headers()['idempotency-key']);
    return answer(keys.length, route);
  });
  return keys;
}

/** How many credits the service has recorded on `caseRef`. */
async function recordedOn(caseRef: string): Promise<number> {
  return (await t.query(`SELECT 1 FROM credits WHERE case_ref = $1`, [caseRef])).length;
}

/**
 * Waits (up to 10 s) until a request the page gave up on has committed: until then the service
 * rightly answers a retry "still in progress", which settles nothing.
 */
async function untilRecorded(caseRef: string): Promise<void> {
  for (let i = 0; i < 100 && (await recordedOn(caseRef)) === 0; i++) await new Promise((r) => setTimeout(r, 100));
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  t = await TestApp.start({ minCohort: 3, dominancePercent: 10, releaseGraceSeconds: 1 });
  base = await t.listen();
  browser = await launchChromium();
  const teamId = await createTeam(t, 'Care Team');
  roleId = await createRole(t, 'Frontline');
  for (const level of ['agent', 'leader', 'finance', 'auditor', 'admin'] as const) {
    const user = await createUser(t, [level], {
      displayName: {
        agent: 'Sam Rivera',
        leader: 'Lee Park',
        finance: 'Fran Okafor',
        auditor: 'Ada Quist',
        admin: 'Max Admin',
      }[level],
      ...(level === 'agent' ? { roleId, teamId } : {}),
    });
    people[level] = { ...user, session: (await signInWithLink(t, user.id)).token };
  }
  await setLimits(t, people.leader.token, roleId, [{ currency: 'EUR', perCredit: 2500, perAgentDay: 20000 }]);
  // A closed month to report on: credits by five agents, moved into last month and released.
  const creditIds: string[] = [];
  for (let i = 0; i < 5; i++) {
    const agent = await createUser(t, ['agent'], { roleId, teamId });
    for (const amount of [1200, 2000, 3100]) {
      const res = await postCredit(
        t,
        agent.token,
        creditBody({ amount, reasonCode: 'late_delivery', channel: 'chat' }),
      );
      creditIds.push(res.body.id);
    }
  }
  await backdate(t, 1, { creditIds });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('agent, in a 360 px helpdesk sidebar', () => {
  it('logs a credit over its limit by keyboard alone, prefilled from the helpdesk, and reads the split', async () => {
    const { page, errors } = await signedIn('agent', '/?caseRef=CASE-4711&customerRef=CUST-9&channel=chat', {
      width: 360,
    });
    await seeText(page.locator('.available'), 'Within your discretion for this credit: €25.00');
    await accessible(page, 'agent');
    await keyboardReachable(page, 'agent');
    await shot(page, 'agent');
    // Keyboard only: the amount field, then each field in order, then Enter.
    await page.locator('#amount').focus();
    await page.keyboard.type('30');
    await page.keyboard.press('Tab'); // currency
    await page.keyboard.press('Tab'); // kind
    await page.keyboard.press('ArrowDown'); // store credit
    await page.keyboard.press('Tab'); // reason
    await page.keyboard.press('Tab'); // case (prefilled)
    await page.keyboard.press('Enter');
    await seeText(
      page.locator('#answer'),
      '€25.00 within your discretion; €5.00 beyond it, booked as a cost of doing business.',
    );
    const [credit] = await t.query<Record<string, unknown>>(
      `SELECT amount::int, within_discretion::int AS within, overrun::int, case_ref, customer_ref, channel, kind
         FROM credits WHERE agent_id = $1 ORDER BY recorded_at DESC LIMIT 1`,
      [people.agent.id],
    );
    expect(credit).toEqual({
      amount: 3000,
      within: 2500,
      overrun: 500,
      case_ref: 'CASE-4711',
      customer_ref: 'CUST-9',
      channel: 'chat',
      kind: 'store_credit',
    });
    await seeText(page.locator('ul.recent'), 'CASE-4711');
    await shot(page, 'agent-answer');
    expect(errors).toEqual([]);
  });

  it('a retry after the connection drops reuses its Idempotency-Key and never makes a second credit', async () => {
    const { page } = await signedIn('agent', '/?caseRef=CASE-CUT', { width: 360 });
    const keys = await creditPosts(page, async (n, route) => {
      if (n > 1) return route.continue();
      // The credit reaches the service and is recorded; the answer never reaches the browser.
      await route.fetch();
      return route.abort('connectionreset');
    });
    await page.locator('#amount').fill('12,50'.replace(',', '.'));
    await page.getByRole('button', { name: 'Give credit' }).click();
    await seeText(page.getByRole('alert'), 'The connection dropped before Leeway answered');
    await page.getByRole('button', { name: /Try again/ }).click();
    await seeText(page.locator('#answer'), '€12.50 within your discretion.');
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(await recordedOn('CASE-CUT')).toBe(1);
  });

  it('a gateway’s 504, a "still in progress" answer and a reload all keep the same credit: it lands once', async () => {
    const { page } = await signedIn('agent', '/?caseRef=CASE-UNSETTLED', { width: 360 });
    const keys = await creditPosts(page, async (posts, route) => {
      if (posts === 1) {
        // Recorded by the service; a gateway in front of it answers 504 all the same.
        await route.fetch();
        return route.fulfill({ status: 504, contentType: 'text/html', body: '<h1>Gateway Timeout</h1>' });
      }
      if (posts === 2)
        return route.fulfill({
          status: 409,
          contentType: 'application/problem+json',
          body: JSON.stringify({
            type: 'https://leeway.dev/problems/idempotency-key-in-flight',
            title: 'Request with this key is in progress',
            status: 409,
            detail: 'A request with this Idempotency-Key is still being processed.',
          }),
        });
      return route.continue();
    });
    await page.locator('#amount').fill('7.25');
    await page.getByRole('button', { name: 'Give credit' }).click();
    await seeText(page.getByRole('alert'), 'Leeway has not confirmed this credit yet');
    expect(await page.getByRole('button', { name: 'Give credit' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: /Try again/ }).click();
    await seeText(page.getByRole('alert'), 'Leeway has not confirmed this credit yet');
    // The helpdesk reloads the sidebar: the unsettled credit is offered again, never forgotten.
    await page.reload();
    await seeText(page.getByRole('alert'), 'A credit of €7.25 on case CASE-UNSETTLED was not confirmed');
    // On a loaded machine the first request may outlast the page's 15 s wait.
    await untilRecorded('CASE-UNSETTLED');
    await page.getByRole('button', { name: /Try again/ }).click();
    await seeText(page.locator('#answer'), '€7.25 within your discretion.');
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(await recordedOn('CASE-UNSETTLED')).toBe(1);
    // Settled: a reload offers nothing more.
    await page.reload();
    await page.locator('.available').waitFor();
    expect(await page.locator('.lost').count()).toBe(0);
  });

  it('gives up on an answer that never comes (15 s) and retries under the same key: one credit', async () => {
    const { page } = await signedIn('agent', '/?caseRef=CASE-HUNG', { width: 360 });
    const keys = await creditPosts(page, async (n, route) => {
      // The first request is recorded by the service; its answer is held back for good.
      if (n === 1) return void (await route.fetch());
      return route.continue();
    });
    await page.locator('#amount').fill('3.10');
    await page.getByRole('button', { name: 'Give credit' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Leeway has not confirmed this credit yet' })
      .waitFor({ timeout: 25_000 });
    // The held-back request did reach the service: once it has committed, the retry replays it.
    await untilRecorded('CASE-HUNG');
    await page.getByRole('button', { name: /Try again/ }).click();
    await seeText(page.locator('#answer'), '€3.10 within your discretion.');
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(await recordedOn('CASE-HUNG')).toBe(1);
  }, 60_000);

  it('shows how it reads the amount while it is typed, and refuses a misplaced separator rather than guess', async () => {
    const { page } = await signedIn('agent', '/?caseRef=CASE-SEP', { width: 360 });
    await page.locator('#amount').fill('1,234.5');
    await seeText(page.locator('#amount-hint'), 'Reads as €1,234.50');
    // A decimal comma in an English format: never read as €1,250.00.
    await page.locator('#amount').fill('12,50');
    await page.keyboard.press('Enter');
    await seeText(
      page.locator('#amount-hint'),
      'Check the separators: here the decimal separator is “.”, as in 25.50.',
    );
    expect(await t.query(`SELECT 1 FROM credits WHERE case_ref = 'CASE-SEP'`)).toHaveLength(0);
  });

  it('refuses an amount with more decimals than the currency has, saying so, and sends nothing', async () => {
    const { page } = await signedIn('agent', '/?caseRef=CASE-DEC', { width: 360 });
    await page.locator('#amount').fill('1.005');
    await page.keyboard.press('Enter');
    await seeText(page.locator('#amount-hint'), 'EUR has 2 decimals at most.');
    expect(await t.query(`SELECT 1 FROM credits WHERE case_ref = 'CASE-DEC'`)).toHaveLength(0);
  });

  it('reverses one of its own recent credits, with a reason', async () => {
    const { page } = await signedIn('agent');
    await page.getByRole('button', { name: 'Reverse' }).first().click();
    await page.getByLabel('Why reverse it?').fill('Logged on the wrong case');
    await page.getByRole('button', { name: 'Reverse' }).first().click();
    await seeText(page.locator('ul.recent'), 'Reversed');
    const reversed = await t.query(
      `SELECT 1 FROM credit_reversals r JOIN credits c ON c.id = r.credit_id WHERE c.agent_id = $1`,
      [people.agent.id],
    );
    expect(reversed).toHaveLength(1);
  });

  it('speaks Polish and Vietnamese, with money in the reader’s own format', async () => {
    const polish = await signedIn('agent', '/?caseRef=CASE-PL', { locale: 'pl-PL', width: 360 });
    await seeText(polish.page.locator('nav'), 'Przyznaj rekompensatę');
    await seeText(polish.page.locator('.available'), /W ramach Twojej swobody przy tej rekompensacie: \d+,\d{2}\s€/);
    await accessible(polish.page, 'agent (pl)');
    // The service's refusal in the reader's words, with the service's own detail after it.
    await polish.page.locator('#amount').fill('10 000 000 000,01');
    await seeText(polish.page.locator('#amount-hint'), /Odczytano jako 10\s000\s000\s000,01\s€/);
    await polish.page.getByRole('button', { name: 'Przyznaj', exact: true }).click();
    await seeText(polish.page.getByRole('alert'), 'Nie przyjęto: Kwota. (');
    expect(await t.query(`SELECT 1 FROM credits WHERE case_ref = 'CASE-PL'`)).toHaveLength(0);
    await polish.page.getByLabel('Język').selectOption('vi');
    await seeText(polish.page.locator('nav'), 'Tặng khoản thiện chí');
    await shot(polish.page, 'agent-vi');
  });
});

describe('leader', () => {
  it('changes a limit, sees who set what and when, adds a reason, and reads limit fit with a chart', async () => {
    const { page, errors } = await signedIn('leader');
    await page.getByRole('link', { name: 'Roles and limits' }).click();
    await page.getByLabel('EUR Per credit').fill('30.00');
    await page.getByRole('button', { name: 'Save' }).click();
    await seeText(page.getByRole('status'), 'Saved as version 2.');
    await seeText(page.locator('ol.history'), 'Version 2, set by Lee Park');
    await page.getByLabel('Code').fill('loyalty_bonus');
    await page.getByLabel('Label').fill('Loyalty bonus');
    await page.getByRole('button', { name: 'Add' }).last().click();
    await seeText(page.locator('table'), 'loyalty_bonus');
    expect(await page.locator('.error').count()).toBe(0);
    expect(
      await t.query(`SELECT 1 FROM reasons WHERE code = 'loyalty_bonus' AND label = 'Loyalty bonus'`),
    ).toHaveLength(1);
    await seeText(page.locator('.fit'), 'Frontline · EUR');
    await seeText(page.locator('.hint'), /^Closed months counted: \w+ \d{4} to \w+ \d{4}\.$/);
    await page.locator('.fit canvas').first().waitFor();
    const [limits] = await t.query<{ per_credit: string }>(
      `SELECT l.per_credit::text FROM roles r JOIN role_limits l ON l.role_id = r.id AND l.version = r.current_limits_version
        WHERE r.id = $1`,
      [roleId],
    );
    expect(limits.per_credit).toBe('3000');
    await accessible(page, 'leader');
    await keyboardReachable(page, 'leader');
    await shot(page, 'leader');
    expect(errors).toEqual([]);
  });
});

describe('finance', () => {
  it('reads closed-month spend with its chart and the notShown line, downloads CSV, and reads the books', async () => {
    const { page, errors } = await signedIn('finance');
    await seeText(page.locator('table').first(), 'Not shown (groups too small to show on their own)');
    expect(await page.locator('tr.not-shown td').first().textContent()).toBe('0');
    await seeText(page.locator('table').first(), 'Total');
    await page.locator('.chart canvas').first().waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^spend-\d{4}-\d{2}-\d{4}-\d{2}\.csv$/);
    // The file holds what the screen shows: its rows, then the notShown line and the total.
    const lines = readFileSync((await file.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(lines[0].split(',')[0]).toBe('line');
    expect(lines.filter((l) => l.startsWith('row,')).length).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith('not_shown,'))).toBe(true);
    const total = lines.find((l) => l.startsWith('total,'))!.split(',');
    // 5 agents × (12.00 + 20.00 + 31.00) EUR, the month released in beforeAll.
    expect(total.slice(9, 13)).toEqual(['EUR', '15', '0', '31500']);
    await page.getByLabel('Group by').selectOption('channel');
    await page.getByLabel('Period').selectOption('quarter');
    await page.getByRole('button', { name: 'Show' }).click();
    await seeText(page.locator('table').first(), 'Chat');
    await seeText(page.locator('section', { hasText: 'Journal' }), 'goodwill');
    await accessible(page, 'finance');
    await keyboardReachable(page, 'finance');
    await shot(page, 'finance');
    expect(errors).toEqual([]);
  });
});

describe('auditor', () => {
  it('searches an agent’s credits under a banner saying each read is recorded, and it is', async () => {
    const { page, errors } = await signedIn('auditor');
    await seeText(page.locator('.banner'), 'Every search here is recorded in the audit log');
    await page.getByLabel('Agent (id or reference)').fill(people.agent.id);
    await page.getByRole('button', { name: 'Search' }).click();
    await seeText(page.locator('table'), 'CASE-4711');
    const audited = await t.query(`SELECT 1 FROM audit_events WHERE actor_id = $1 AND action = 'credit.read'`, [
      people.auditor.id,
    ]);
    expect(audited.length).toBeGreaterThan(0);
    // By the reference the helpdesk knows the agent by, and by day: both days included, in local time.
    await t.query(`UPDATE users SET external_ref = 'sam.rivera@example.com' WHERE id = $1`, [people.agent.id]);
    const today = new Date().toLocaleDateString('en-CA');
    await page.getByLabel('Agent (id or reference)').fill('sam.rivera@example.com');
    await page.getByLabel('From').fill(today);
    await page.getByLabel('To').fill(today);
    const answered = page.waitForResponse((r) => r.url().includes('agentRef=') && r.status() === 200);
    await page.getByRole('button', { name: 'Search' }).click();
    const url = new URL((await answered).url());
    // Whole local days: from this day's midnight to the next, as instants.
    expect(new Date(url.searchParams.get('to')!).getTime() - new Date(url.searchParams.get('from')!).getTime()).toBe(
      24 * 3_600_000,
    );
    await seeText(page.locator('table'), 'CASE-4711');
    const [byRef] = await t.query<{ details: { filters: Record<string, unknown> } }>(
      `SELECT details FROM audit_events WHERE actor_id = $1 AND action = 'credit.read' ORDER BY id DESC LIMIT 1`,
      [people.auditor.id],
    );
    expect(byRef.details.filters.agentRef).toBe('sam.rivera@example.com');
    await accessible(page, 'auditor');
    await keyboardReachable(page, 'auditor');
    await shot(page, 'auditor');
    expect(errors).toEqual([]);
  });
});

describe('admin', () => {
  it('creates a user, issues a token shown once with a copy button, a sign-in link, and reads the audit log', async () => {
    const { page, errors } = await signedIn('admin');
    await page.getByLabel('Name', { exact: true }).fill('Robin New');
    await page.getByRole('button', { name: 'Add' }).first().click();
    await seeText(page.locator('#user-panel'), 'Robin New');
    await page.getByLabel('Label').fill('desk 7');
    await page.getByRole('button', { name: 'New API token' }).click();
    const shown = page.locator('.once input');
    await shown.waitFor();
    const token = await shown.inputValue();
    expect(token).toMatch(/^lw_[\w-]{43}$/);
    // Copying needs the page to hold focus and the clipboard permission, as a person's browser gives.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.bringToFront();
    await page.getByRole('button', { name: 'Copy' }).click();
    await seeText(page.getByRole('button', { name: 'Copied' }), 'Copied');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token);
    const [robin] = await t.query<{ id: string }>(`SELECT id FROM users WHERE display_name = 'Robin New'`);
    expect((await t.as(token).get('/v1/me')).body.id).toBe(robin.id);
    await page.getByRole('button', { name: 'New sign-in link' }).click();
    // The token's box is replaced by the link's: wait for the link rather than the box.
    expect(await seeValue(page, '.once input', '/sign-in#link=')).toMatch(/\/sign-in#link=lw_[\w-]{43}$/);
    await seeText(page.locator('section', { hasText: 'Audit log' }), 'sign_in_link.issued');
    // Access, role and team are changed here too; only what changed is sent.
    await page.getByRole('checkbox', { name: 'Leader' }).last().check();
    await page.getByLabel('Job role').last().selectOption({ label: 'Frontline' });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await seeText(page.getByRole('status'), 'Saved.');
    const [changed] = await t.query<{ access: string[]; role_id: string }>(
      `SELECT access, role_id FROM users WHERE display_name = 'Robin New'`,
    );
    expect(changed).toEqual({ access: ['agent', 'leader'], role_id: roleId });
    // The audit log says who acted, by name.
    await seeText(
      page.locator('section', { hasText: 'Audit log' }).locator('tr', { hasText: 'user.changed' }),
      'Max Admin',
    );
    await accessible(page, 'admin');
    await keyboardReachable(page, 'admin');
    await shot(page, 'admin');
    expect(errors).toEqual([]);
  });
});

describe('every screen', () => {
  it('has its sessions page, and signing out ends the session', async () => {
    const person = await createUser(t, ['finance'], { displayName: 'Temp Person' });
    const session = await signInWithLink(t, person.id);
    const context = await browser.newContext({ locale: 'en-GB' });
    await expectingSignIn(context);
    const page = await context.newPage();
    await page.goto(signedInUrl('/', session.token));
    await page.getByRole('link', { name: 'My sessions' }).click();
    await seeText(page.locator('main'), 'this one');
    await accessible(page, 'sessions');
    await shot(page, 'sessions');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await seeText(page.locator('#status'), 'You are not signed in.');
    expect((await t.as(session.token).get('/v1/me')).status).toBe(401);
    await accessible(page, 'signed out');
    await page.goto(`${base}/sign-in`);
    await seeText(page.locator('main'), 'Ask a Leeway admin for a sign-in link.');
    await accessible(page, 'sign-in');
    await shot(page, 'sign-in');
  });
});
