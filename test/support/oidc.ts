import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** How the provider forges the next ID token it issues (see oidc-provider.mjs); `resign` changes nothing. */
export type Forgery = 'resign' | 'iss' | 'aud' | 'nonce' | 'exp' | 'foreignKey' | 'none';

export interface OidcProvider {
  issuer: string;
  /** The next token response carries an ID token forged this way. */
  forgeNextIdToken(how: Forgery): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a real OpenID provider (test/support/oidc-provider.mjs) in its own process. */
export async function startOidcProvider(opts: {
  redirectUris: string[];
  accounts: Record<string, Record<string, unknown>>;
  clientSecret?: string;
  /** A fixed port (a service configured before the provider came up); else any free one. */
  port?: number;
}): Promise<OidcProvider> {
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'oidc-provider.mjs')], {
    env: {
      ...process.env,
      OIDC_REDIRECT_URIS: JSON.stringify(opts.redirectUris),
      OIDC_ACCOUNTS: JSON.stringify(opts.accounts),
      ...(opts.clientSecret ? { OIDC_CLIENT_SECRET: opts.clientSecret } : {}),
      ...(opts.port ? { OIDC_PORT: String(opts.port) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (d) => (errors += String(d)));
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`OpenID provider did not start: ${errors}`)), 20_000);
    child.stdout?.once('data', (d) => {
      clearTimeout(timer);
      resolve(String(d).trim());
    });
    child.once('exit', (code) => reject(new Error(`OpenID provider exited (${code}): ${errors}`)));
  });
  return {
    issuer,
    forgeNextIdToken: async (how) => {
      const res = await fetch(`${issuer}/__test/tamper?mode=${how}`);
      if (res.status !== 200) throw new Error(`the provider refused to forge (${res.status}): ${await res.text()}`);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A minimal browser for redirects: keeps cookies per host, follows nothing by itself. */
export class CookieClient {
  private readonly jar = new Map<string, Map<string, string>>();

  async get(url: string): Promise<Response> {
    return this.send(url, { method: 'GET' });
  }

  async postForm(url: string, form: Record<string, string>): Promise<Response> {
    return this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }

  setCookie(host: string, name: string, value: string): void {
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(name, value);
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    const host = new URL(url).host;
    const cookies = [...(this.jar.get(host) ?? new Map())].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookies ? { cookie: cookies } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, ...rest] = pair.trim().split('=');
      const value = rest.join('=');
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (!this.jar.has(host)) this.jar.set(host, new Map());
      if (expired) this.jar.get(host)!.delete(name);
      else this.jar.get(host)!.set(name, value);
    }
    return res;
  }
}

/**
 * Walks the provider's sign-in as a browser would, without one: Leeway's start → the provider's
 * login form (any login name) → back to Leeway's callback. Returns Leeway's last answer and where
 * the provider sent the browser back to (for replaying it).
 */
export async function signInThroughProvider(
  client: CookieClient,
  leeway: string,
  login: string,
  returnTo = '/',
): Promise<{ callbackUrl: string; answer: Response }> {
  const start = await client.get(`${leeway}/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}`);
  if (start.status !== 302) throw new Error(`start answered ${start.status}: ${await start.text()}`);
  let next = start.headers.get('location')!;
  for (let hop = 0; hop < 10; hop++) {
    if (next.startsWith(`${leeway}/auth/oidc/callback`)) {
      return { callbackUrl: next, answer: await client.get(next) };
    }
    const res = await client.get(next);
    if (res.status >= 300 && res.status < 400) {
      next = new URL(res.headers.get('location')!, next).href;
      continue;
    }
    const page = await res.text();
    const action = /<form[^>]*action="([^"]+)"[^>]*>\s*<input type="hidden" name="prompt" value="login"/.exec(
      page,
    )?.[1];
    if (!action) throw new Error(`unexpected provider page (${res.status}): ${page.slice(0, 300)}`);
    const posted = await client.postForm(new URL(action, next).href, { prompt: 'login', login, password: 'any' });
    if (posted.status < 300 || posted.status >= 400) throw new Error(`login answered ${posted.status}`);
    next = new URL(posted.headers.get('location')!, next).href;
  }
  throw new Error('too many redirects');
}
