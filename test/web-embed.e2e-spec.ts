import { createServer, Server } from 'node:http';
import { Browser } from 'playwright-core';
import { createUser } from './support/factories';
import { TestApp } from './support/app';
import { launchChromium } from './support/browser';

/**
 * The app inside a helpdesk sidebar: it loads in an iframe on a page from an origin listed in
 * LEEWAY_FRAME_ANCESTORS, and is refused in one from any other origin (CSP frame-ancestors).
 */

let t: TestApp;
let browser: Browser;
let base: string;
const helpdesks: Server[] = [];

/** A page on its own origin that frames Leeway, as a helpdesk's sidebar app does. */
async function helpdesk(frameUrl: string, port = 0): Promise<string> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      `<!doctype html><title>Helpdesk</title><iframe id="sidebar" title="Leeway" width="360" height="700" src="${frameUrl}"></iframe>`,
    );
  });
  helpdesks.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

let allowedPort: number;

beforeAll(async () => {
  // The allowed helpdesk's origin must be known before the service starts: take a port first.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  allowedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  t = await TestApp.start({ frameAncestors: [`http://127.0.0.1:${allowedPort}`] });
  base = await t.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const s of helpdesks) await new Promise((resolve) => s.close(resolve));
  await t?.close();
});

it('loads in a sidebar on an allowed helpdesk, prefilled for the ticket, and is refused elsewhere', async () => {
  const agent = await createUser(t, ['agent'], { displayName: 'Sidebar Agent' });
  // The sidebar opens the sign-in page, asking to come back to the ticket; the agent clicks once.
  const link = await t.request('POST', `/v1/users/${agent.id}/sign-in-links`);
  const secret = link.body.url.split('#link=')[1];
  const frameUrl = `${base}/sign-in?returnTo=${encodeURIComponent('/?caseRef=T-100&channel=email')}#link=${secret}`;

  // Allowed: the page from the listed origin.
  const page = await browser.newPage();
  await page.goto(await helpdesk(frameUrl, allowedPort));
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
