import { Browser, Locator } from 'playwright-core';
import { createUser } from './support/factories';
import { TestApp } from './support/app';
import { launchChromium } from './support/browser';
import { OidcProvider, startOidcProvider } from './support/oidc';
import { freePort } from './support/service-process';

/**
 * A person signing in with a real browser (Debian's Chromium driven by Playwright): through the
 * identity provider's own login page, and with a sign-in link an admin gave them.
 */

/** Waits until the element shows the text (as a person would), then checks it exactly. */
async function seeText(locator: Locator, text: string | RegExp): Promise<void> {
  await locator.filter({ hasText: text }).waitFor({ timeout: 15_000 });
  const shown = (await locator.textContent())?.trim();
  expect(shown).toEqual(typeof text === 'string' ? text : expect.stringMatching(text));
}

let t: TestApp;
let provider: OidcProvider;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    redirectUris: [`${base}/auth/oidc/callback`],
    accounts: { 'sam.rivera': { email: 'sam.rivera@example.com', email_verified: true } },
  });
  t = await TestApp.start({ oidc: { issuer: provider.issuer, clientId: 'leeway', claim: 'email' } });
  await t.listen(port);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await provider?.stop();
});

it('signs a person in through the identity provider’s login page, and out again', async () => {
  const created = await t.request('POST', '/v1/users', {
    body: { displayName: 'Sam Rivera', access: ['agent'], externalRef: 'sam.rivera@example.com' },
  });
  expect(created.status).toBe(201);
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByRole('link', { name: /Sign in with your organisation/ }).click();
  // The provider's own page.
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.locator('input[name="login"]').fill('sam.rivera');
  await page.locator('input[name="password"]').fill('whatever');
  await page.locator('button[type="submit"]').click();
  // Back on Leeway, signed in; the token left the address bar.
  await page.waitForURL(`${base}/`);
  await seeText(page.locator('#who'), 'Sam Rivera');
  expect(page.url()).not.toContain('session=');
  const sessions = await t.query<{ signed_in_with: string; user_agent: string }>(
    `SELECT signed_in_with, user_agent FROM tokens WHERE user_id = $1 AND kind = 'session' AND revoked_at IS NULL`,
    [created.body.id],
  );
  expect(sessions).toHaveLength(1);
  expect(sessions[0].signed_in_with).toBe('oidc');
  expect(sessions[0].user_agent).toMatch(/Chrome/);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await seeText(page.locator('#status'), 'You are not signed in.');
  const open = await t.query(`SELECT 1 FROM tokens WHERE user_id = $1 AND kind = 'session' AND revoked_at IS NULL`, [
    created.body.id,
  ]);
  expect(open).toHaveLength(0);
});

it('a link with someone else’s session in it signs nobody in (login forgery)', async () => {
  const attacker = await createUser(t, ['agent'], { displayName: 'Mallory' });
  const stolen = (await t.request('POST', `/v1/users/${attacker.id}/sign-in-links`)).body.url.split('#link=')[1];
  const session = (await t.request('POST', '/v1/sessions', { token: null, body: { link: stolen } })).body.token;
  for (const forged of [`${base}/#session=${session}`, `${base}/?signin=guess#session=${session}`]) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(forged);
    await seeText(page.locator('#status'), 'You are not signed in.');
    expect(page.url()).not.toContain('session=');
    expect(await page.locator('#who').count()).toBe(0);
  }
});

it('a person unknown to Leeway sees why, in plain words, in their own language', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/auth/oidc/start`);
  await page.locator('input[name="login"]').fill('stranger');
  await page.locator('input[name="password"]').fill('whatever');
  await page.locator('button[type="submit"]').click();
  await seeText(page.getByRole('heading', { level: 1 }), 'Your identity provider did not say who you are');
  const polish = await (await browser.newContext({ locale: 'pl-PL' })).newPage();
  await polish.goto(`${base}/auth/oidc/start`);
  await polish.locator('input[name="login"]').fill('stranger');
  await polish.locator('input[name="password"]').fill('whatever');
  await polish.locator('button[type="submit"]').click();
  await seeText(polish.getByRole('heading', { level: 1 }), 'Dostawca tożsamości nie podał, kim jesteś');
});

it('signs a person in with a sign-in link, on a click, and the link works once', async () => {
  const user = await createUser(t, ['finance'], { displayName: 'Kim Lee' });
  const link = await t.request('POST', `/v1/users/${user.id}/sign-in-links`);
  const page = await (await browser.newContext()).newPage();
  await page.goto(link.body.url);
  // Opening the page uses nothing (a mail scanner may open it); the click does.
  expect(await t.query(`SELECT 1 FROM sign_in_links WHERE id = $1 AND used_at IS NULL`, [link.body.id])).toHaveLength(
    1,
  );
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await seeText(page.locator('#who'), 'Kim Lee');
  const again = await (await browser.newContext()).newPage();
  await again.goto(link.body.url);
  await again.getByRole('button', { name: 'Sign in' }).click();
  await seeText(again.locator('#status'), /used already/);
});
