import { QueryRunner } from 'typeorm';
import { ADMIN_TOKEN, Reply, TestApp } from './support/app';
import { createUser } from './support/factories';
import { expectProblem } from './support/problems';
import { scimRequest } from './support/scim';

/**
 * The last active admin stays: neither an admin (PATCH /v1/users/:id) nor the identity provider
 * (SCIM) can deactivate them or take their admin access, so someone can always administer Leeway.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let t: TestApp;
let scimToken: string;
let bootstrapId: string;

function scim(method: string, path: string, body?: unknown) {
  return scimRequest(t, scimToken, method, path, body);
}

async function activeAdmins(): Promise<string[]> {
  const rows = await t.query<{ id: string }>(`SELECT id FROM users WHERE active AND 'admin' = ANY (access)`);
  return rows.map((r) => r.id).sort();
}

/**
 * Two PATCHes sent together, held at the rule's lock until both wait there, so they truly race
 * (rather than one finishing before the other starts).
 */
async function race(first: () => Promise<Reply>, second: () => Promise<Reply>): Promise<Reply[]> {
  const holder: QueryRunner = t.dataSource.createQueryRunner();
  await holder.connect();
  await holder.startTransaction();
  try {
    await holder.query(`SELECT pg_advisory_xact_lock(hashtext('leeway.admins'))`);
    const answers = Promise.all([first(), second()]);
    for (let i = 0; i < 200; i++) {
      const [{ n }] = await t.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
      );
      if (n === 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await holder.commitTransaction();
    return await answers;
  } finally {
    await holder.release();
  }
}

beforeAll(async () => {
  t = await TestApp.start();
  scimToken = (await t.request('POST', '/v1/provisioning-tokens', { body: { label: 'Entra ID' } })).body.token;
  [bootstrapId] = await activeAdmins();
});

afterAll(async () => {
  await t?.close();
});

describe('the last active admin', () => {
  it('cannot be deprovisioned by SCIM (PATCH, PUT, DELETE: 409), and can once another admin exists', async () => {
    const made = await scim('POST', '/Users', { schemas: [USER], userName: 'ops.admin@example.com', active: true });
    expect(made.status).toBe(201);
    const id = made.body.id;
    expect((await t.request('PATCH', `/v1/users/${id}`, { body: { access: ['agent', 'admin'] } })).status).toBe(200);
    const token = (await t.request('POST', `/v1/users/${id}/tokens`, { body: { label: 'ops' } })).body.token;
    // The provisioned admin takes the bootstrap admin's admin access: they are now the only one.
    expect((await t.as(token).patch(`/v1/users/${bootstrapId}`, { access: ['agent'] })).status).toBe(200);
    expect(await activeAdmins()).toEqual([id]);
    const attempts = [
      () =>
        scim('PATCH', `/Users/${id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        }),
      () => scim('PUT', `/Users/${id}`, { schemas: [USER], userName: 'ops.admin@example.com', active: false }),
      () => scim('DELETE', `/Users/${id}`),
    ];
    for (const attempt of attempts) {
      const res = await attempt();
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '409' });
      expect(res.body.detail).toMatch(/last active admin/);
    }
    const [row] = await t.query<{ active: boolean; scim_deleted_at: Date | null }>(
      `SELECT active, scim_deleted_at FROM users WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ active: true, scim_deleted_at: null });
    expect((await t.as(token).get('/v1/me')).status).toBe(200);
    expect(
      await t.query(`SELECT 1 FROM audit_events WHERE action = 'user.deprovisioned' AND subject_id = $1`, [id]),
    ).toEqual([]);
    // With another admin, the provider's word counts again.
    expect((await t.as(token).patch(`/v1/users/${bootstrapId}`, { access: ['admin'] })).status).toBe(200);
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect(await activeAdmins()).toEqual([bootstrapId]);
    expect((await t.as(token).get('/v1/me')).status).toBe(401);
  });

  it.each([
    ['taking admin access', { access: ['agent'] }],
    ['deactivating', { active: false }],
  ])('loses no race: two admins %s from each other at once, one is refused (409)', async (_what, change) => {
    const other = await createUser(t, ['admin']);
    expect(await activeAdmins()).toEqual([bootstrapId, other.id].sort());
    const answers = await race(
      () => t.as(ADMIN_TOKEN).patch(`/v1/users/${other.id}`, change),
      () => t.as(other.token).patch(`/v1/users/${bootstrapId}`, change),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const refused = answers.find((a) => a.status === 409)!;
    expectProblem(refused, 409);
    expect(refused.body.detail).toMatch(/last active admin/);
    const survivors = await activeAdmins();
    expect(survivors).toHaveLength(1);
    expect([bootstrapId, other.id]).toContain(survivors[0]);
    // The next case starts from the bootstrap admin alone again.
    if ('access' in change) {
      if (survivors[0] !== bootstrapId)
        expect((await t.as(other.token).patch(`/v1/users/${bootstrapId}`, { access: ['admin'] })).status).toBe(200);
      await t.as(ADMIN_TOKEN).patch(`/v1/users/${other.id}`, { access: ['agent'] });
      expect(await activeAdmins()).toEqual([bootstrapId]);
    }
  });
});
