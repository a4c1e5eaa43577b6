import { randomUUID } from 'node:crypto';
import { AccessLevel } from '../../src/access/access-level';
import { TestApp } from './app';

export interface TestUser {
  id: string;
  token: string;
  tokenId: string;
}

let counter = 0;

export async function createUser(
  t: TestApp,
  access: AccessLevel[],
  extra: { roleId?: string; teamId?: string; displayName?: string } = {},
): Promise<TestUser> {
  counter++;
  const created = await t.request('POST', '/v1/users', {
    body: {
      displayName: extra.displayName ?? `${access.join('+')} ${counter}`,
      access,
      roleId: extra.roleId,
      teamId: extra.teamId,
    },
  });
  if (created.status !== 201) throw new Error(`createUser failed: ${created.status} ${created.text}`);
  const issued = await t.request('POST', `/v1/users/${created.body.id}/tokens`, { body: {} });
  if (issued.status !== 201) throw new Error(`issue token failed: ${issued.status} ${issued.text}`);
  return { id: created.body.id, token: issued.body.token, tokenId: issued.body.id };
}

/** Signs a user in as a person would without an identity provider: an admin's sign-in link, used once. */
export async function signInWithLink(t: TestApp, userId: string): Promise<{ token: string; sessionId: string }> {
  const link = await t.request('POST', `/v1/users/${userId}/sign-in-links`);
  if (link.status !== 201) throw new Error(`sign-in link failed: ${link.status} ${link.text}`);
  const secret = new URL(link.body.url).hash.replace(/^#link=/, '');
  const session = await t.request('POST', '/v1/sessions', { token: null, body: { link: secret } });
  if (session.status !== 201) throw new Error(`sign-in failed: ${session.status} ${session.text}`);
  return { token: session.body.token, sessionId: session.body.sessionId };
}

export async function createRole(t: TestApp, name = `Role ${randomUUID().slice(0, 8)}`): Promise<string> {
  const res = await t.request('POST', '/v1/roles', { body: { name } });
  if (res.status !== 201) throw new Error(`createRole failed: ${res.status} ${res.text}`);
  return res.body.id;
}

export async function createTeam(t: TestApp, name = `Team ${randomUUID().slice(0, 8)}`): Promise<string> {
  const res = await t.request('POST', '/v1/teams', { body: { name } });
  if (res.status !== 201) throw new Error(`createTeam failed: ${res.status} ${res.text}`);
  return res.body.id;
}

export type LimitsInput = {
  currency: string;
  perCredit?: number;
  perCase?: number;
  perAgentDay?: number;
  perAgentMonth?: number;
};

export async function setLimits(t: TestApp, leaderToken: string, roleId: string, limits: LimitsInput[]) {
  const res = await t.as(leaderToken).put(`/v1/roles/${roleId}/limits`, { limits });
  if (res.status !== 200) throw new Error(`setLimits failed: ${res.status} ${res.text}`);
  return res.body;
}

export function creditBody(overrides: Record<string, unknown> = {}) {
  return {
    amount: 1000,
    currency: 'EUR',
    kind: 'refund',
    reasonCode: 'late_delivery',
    caseRef: `CASE-${randomUUID().slice(0, 8)}`,
    channel: 'phone',
    ...overrides,
  };
}

export async function postCredit(t: TestApp, token: string, body: Record<string, unknown>, key: string = randomUUID()) {
  return t.as(token).post('/v1/credits', body, { headers: { 'idempotency-key': key } });
}
