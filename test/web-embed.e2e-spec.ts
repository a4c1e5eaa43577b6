import AxeBuilder from '@axe-core/playwright';
import { createServer, Server } from 'node:http';
import { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { createRole, createUser, signInWithLink } from './support/factories';
import { TestApp } from './support/app';
import { launchChromium } from './support/browser';
import { OidcProvider, startOidcProvider } from './support/oidc';
import { freePort } from './support/service-process';

/**
 * The app inside a helpdesk sidebar: it loads in an iframe on a page from an origin listed in
 * LEEWAY_FRAME_ANCESTORS, and is refused in one from any other origin (CSP frame-ancestors).
 * Identity providers refuse to be framed, so the sidebar signs in through a window of its own.
 */

let t: TestApp;
let provider: OidcProvider;
let browser: Browser;
let base: string;
const helpdesks: Server[] = [];

/** A page on its own origin that frames Leeway (or `?frame=`), as a helpdesk's sidebar app does. */
async function helpdesk(frameUrl: string, port = 0): Promise<string> {
  const server = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://helpdesk').searchParams.get('frame') ?? frameUrl;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      `<!doctype html><html lang="en"><title>Helpdesk</title><iframe id="sidebar" title="Leeway" width="360" height="700" src="${src.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"></iframe>`,
    );
  });
  helpdesks.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

let allowedPort: number;
let allowed: Promise<string> | undefined;

/** The helpdesk on the allowed origin (started once), its sidebar showing `frameUrl`. */
async function onAllowedHelpdesk(frameUrl: string, host = '127.0.0.1'): Promise<string> {
  allowed ??= helpdesk(base, allowedPort);
  return `${(await allowed).replace('127.0.0.1', host)}/?frame=${encodeURIComponent(frameUrl)}`;
}

beforeAll(async () => {
  // The allowed helpdesk's origin must be known before the service starts: take a port first.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  allowedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const port = await freePort();
  provider = await startOidcProvider({
    redirectUris: [`http://127.0.0.1:${port}/auth/oidc/callback`],
    accounts: { 'sam.rivera': { email: 'sam.rivera@example.com', email_verified: true } },
  });
  t = await TestApp.start({
    // The helpdesk as `localhost`: another site than Leeway's 127.0.0.1, as a real helpdesk is.
    frameAncestors: [`http://127.0.0.1:${allowedPort}`, `http://localhost:${allowedPort}`],
    oidc: { issuer: provider.issuer, clientId: 'leeway', claim: 'email' },
    signInLinks: 'on',
  });
  base = await t.listen(port);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const s of helpdesks) await new Promise((resolve) => s.close(resolve));
  await t?.close();
  await provider?.stop();
});

it('loads in a sidebar on an allowed helpdesk, prefilled for the ticket, and is refused elsewhere', async () => {
  const agent = await createUser(t, ['agent'], { displayName: 'Sidebar Agent' });
  // The sidebar opens the sign-in page, asking to come back to the ticket; the agent clicks once.
  const link = await t.request('POST', `/v1/users/${agent.id}/sign-in-links`);
  const secret = link.body.url.split('#link=')[1];
  const frameUrl = `${base}/sign-in?returnTo=${encodeURIComponent('/?caseRef=T-100&channel=email')}#link=${secret}`;

  // Allowed: the page from the listed origin.
  const page = await browser.newPage();
  await page.goto(await onAllowedHelpdesk(frameUrl));
  const frame = page.frameLocator('#sidebar');
  await frame.getByRole('button', { name: 'Sign in' }).click();
  await frame.locator('#who').filter({ hasText: 'Sidebar Agent' }).waitFor({ timeout: 15_000 });
  expect(await frame.getByLabel('Case').inputValue()).toBe('T-100');

  // Refused: any other origin gets no app in its frame.
  const other = await helpdesk(frameUrl);
  const refused = await browser.newPage();
  const blocked: string[] = [];
  refused.on('console', (m) => blocked.push(m.text()));
  await refused.goto(other);
  await refused.waitForTimeout(1500);
  const inner = refused.frames().find((f) => f !== refused.mainFrame());
  const hasApp = inner ? await inner.evaluate<boolean>("!!document.querySelector('#app')").catch(() => false) : false;
  expect(hasApp).toBe(false);
  expect(blocked.join('\n')).toMatch(/frame-ancestors/);
});

/** The allowed helpdesk, on another site than Leeway, with its sidebar showing the app for a ticket. */
async function sidebar(context: BrowserContext): Promise<{ page: Page; frame: FrameLocator; errors: string[] }> {
  const helpdeskUrl = await onAllowedHelpdesk(`${base}/?caseRef=T-200&channel=chat`, 'localhost');
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(helpdeskUrl);
  const frame = page.frameLocator('#sidebar');
  // From another site, the frame may get no storage at all (this Chromium denies it): the app keeps
  // what it must in memory, and the session reaches it by message, never through storage.
  await frame.locator('#status').waitFor({ timeout: 15_000 });
  return { page, frame, errors };
}

/** No serious or critical accessibility issue on what the page shows now (frames included). */
async function accessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect({ what, bad }).toEqual({ what, bad: [] });
}

async function openSessions(userId: string): Promise<{ signed_in_with: string }[]> {
  return t.query(
    `SELECT signed_in_with FROM tokens WHERE user_id = $1 AND kind = 'session' AND revoked_at IS NULL ORDER BY created_at`,
    [userId],
  );
}

it('signs an agent in from the sidebar through a window of its own, by keyboard, and the sidebar logs a credit', async () => {
  const roleId = await createRole(t, 'Sidebar desk');
  const created = await t.request('POST', '/v1/users', {
    body: { displayName: 'Sam Rivera', access: ['agent'], roleId, externalRef: 'sam.rivera@example.com' },
  });
  expect(created.status).toBe(201);
  const context = await browser.newContext({ locale: 'en-GB' });
  const { page, frame, errors } = await sidebar(context);
  await accessible(page, 'sidebar, signed out');

  // Keyboard alone: to the sign-in link, Enter. The sidebar opens Leeway's sign-in page in a window.
  await frame.getByRole('link', { name: 'Sign in' }).focus();
  const opened = context.waitForEvent('page');
  await page.keyboard.press('Enter');
  const popup = await opened;
  await frame.getByRole('status').filter({ hasText: 'Finish signing in in the window that opened.' }).waitFor();
  await popup.getByText('This window signs you in to Leeway in your helpdesk’s sidebar').waitFor();
  expect(new URL(popup.url()).origin).toBe(base);
  // The mark leaves the address bar once the page has taken it (a moment after it shows).
  await popup.waitForURL((url) => !url.href.includes('popup='));
  await accessible(popup, 'sign-in window');

  // The identity provider's own page, in that window (it would refuse to load in the frame).
  await popup.getByRole('link', { name: /Sign in with your organisation/ }).click();
  await popup.waitForURL((url) => url.href.startsWith(provider.issuer));
  await popup.locator('input[name="login"]').fill('sam.rivera');
  await popup.locator('input[name="password"]').fill('whatever');
  const closed = popup.waitForEvent('close', { timeout: 20_000 });
  await popup.locator('button[type="submit"]').click();
  await closed;

  // The sidebar took the session: the agent screen, still prefilled for the ticket.
  await frame.locator('#who').filter({ hasText: 'Sam Rivera' }).waitFor({ timeout: 15_000 });
  expect(await frame.getByLabel('Case').inputValue()).toBe('T-200');
  expect(await openSessions(created.body.id)).toEqual([{ signed_in_with: 'oidc' }]);
  await accessible(page, 'sidebar, signed in');

  await frame.getByLabel('Amount').fill('12.50');
  await frame.getByRole('button', { name: 'Give credit' }).click();
  await frame.locator('#answer').filter({ hasText: '12.50' }).waitFor({ timeout: 15_000 });
  const credits = await t.query<{ amount: string; case_ref: string; channel: string }>(
    `SELECT amount::text, case_ref, channel FROM credits WHERE agent_id = $1`,
    [created.body.id],
  );
  expect(credits).toEqual([{ amount: '1250', case_ref: 'T-200', channel: 'chat' }]);
  expect(errors).toEqual([]);
});

it('takes a session only from the window it opened, on Leeway’s origin, with its mark; a blocked window is offered again', async () => {
  const mallory = await createUser(t, ['agent'], { displayName: 'Mallory Other' });
  const hers = (await signInWithLink(t, mallory.id)).token;
  const context = await browser.newContext({ locale: 'pl-PL' });
  // The browser blocks the first window the sidebar asks for, as a strict popup blocker would.
  await context.addInitScript(`
    if (window.top !== window && location.origin === ${JSON.stringify(base)}) {
      const open = window.open.bind(window);
      let blocked = false;
      window.open = (...args) => (blocked ? open(...args) : ((blocked = true), null));
    }`);
  const { page, frame, errors } = await sidebar(context);
  await frame.getByRole('link', { name: 'Zaloguj się' }).click();
  await frame.getByRole('alert').filter({ hasText: 'Przeglądarka zablokowała okno logowania.' }).waitFor();
  await accessible(page, 'sidebar, window blocked');
  const opened = context.waitForEvent('page');
  await frame.getByRole('link', { name: 'Otwórz okno logowania' }).click();
  const popup = await opened;
  await popup.getByText('To okno loguje cię do Leeway').waitFor(); // in the sidebar's language
  const mark = await popup.evaluate<string | null>(`sessionStorage.getItem('leeway.popup')`);
  expect(mark).toMatch(/^[0-9a-f-]{36}$/);

  const handOver = (m: string) => JSON.stringify({ type: 'leeway.session', session: hers, mark: m });
  // From the helpdesk's own page (another origin), even with the right mark.
  await page.evaluate(`document.getElementById('sidebar').contentWindow.postMessage(${handOver(mark!)}, '*')`);
  // From Leeway's origin but not the window the sidebar opened (the sidebar itself).
  await frame.locator('body').evaluate(`window.postMessage(${handOver(mark!)}, location.origin)`);
  // From that window, with another mark.
  await popup.evaluate(
    `window.opener.postMessage(${handOver('0b4f3c1e-6a2d-4e8f-9c7b-5d1a2e3f4a5b')}, location.origin)`,
  );
  await page.waitForTimeout(1000);
  expect(await frame.locator('#who').count()).toBe(0);
  expect(await frame.getByText('Nie jesteś zalogowany.').count()).toBe(1);

  // The same message from that window with its mark is taken: the ones above were heard and refused.
  await popup.evaluate(`window.opener.postMessage(${handOver(mark!)}, location.origin)`);
  await frame.locator('#who').filter({ hasText: 'Mallory Other' }).waitFor({ timeout: 15_000 });
  expect(errors).toEqual([]);
});
