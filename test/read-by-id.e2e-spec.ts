import { randomUUID } from 'node:crypto';
import { createRole, createTeam, createUser, setLimits, TestUser } from './support/factories';
import { TestApp } from './support/app';

/** GET /v1/users/:id, /v1/roles/:id and /v1/roles/:id/limits: the reads a client reaches for next. */

let t: TestApp;
let leader: TestUser;
let finance: TestUser;

beforeAll(async () => {
  t = await TestApp.start();
  leader = await createUser(t, ['leader']);
  finance = await createUser(t, ['finance']);
});

afterAll(async () => {
  await t?.close();
});

const expectNotFound = (res: { status: number; headers: Record<string, unknown>; body: any }) => {
  expect(res.status).toBe(404);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: 404, title: 'Not found', type: expect.stringContaining('not-found') });
};

describe('GET /v1/users/:id', () => {
  it('answers the user as created and as changed, the same as in the list', async () => {
    const roleId = await createRole(t);
    const teamId = await createTeam(t);
    const created = await t.request('POST', '/v1/users', {
      body: {
        displayName: 'Ana Read',
        access: ['agent', 'auditor'],
        roleId,
        teamId,
        externalRef: `hr-${randomUUID()}`,
      },
    });
    expect(created.status).toBe(201);
    const read = await t.request('GET', `/v1/users/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect(read.body).toMatchObject({
      displayName: 'Ana Read',
      access: ['agent', 'auditor'],
      roleId,
      teamId,
      active: true,
    });

    const changed = await t.request('PATCH', `/v1/users/${created.body.id}`, { body: { active: false, teamId: null } });
    expect(changed.status).toBe(200);
    const again = await t.request('GET', `/v1/users/${created.body.id}`);
    expect(again.body).toEqual(changed.body);
    expect(again.body).toMatchObject({ active: false, teamId: null, roleId });
  });

  it('is 404 problem+json for an unknown or non-UUID id', async () => {
    expectNotFound(await t.request('GET', `/v1/users/${randomUUID()}`));
    expectNotFound(await t.request('GET', '/v1/users/not-a-uuid'));
  });
});

describe('GET /v1/roles/:id and /v1/roles/:id/limits', () => {
  it('answers a new role with version 0 and no limits (no discretion), for leader, finance and admin', async () => {
    const roleId = await createRole(t, 'Fresh role');
    const role = await t.as(leader.token).get(`/v1/roles/${roleId}`);
    expect(role.status).toBe(200);
    expect(role.body).toEqual({
      id: roleId,
      name: 'Fresh role',
      description: null,
      limitsVersion: 0,
      limits: [],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    for (const token of [leader.token, finance.token, undefined]) {
      const limits = await t.request('GET', `/v1/roles/${roleId}/limits`, { token });
      expect(limits.status).toBe(200);
      expect(limits.body).toEqual({ roleId, version: 0, limits: [], setBy: null, setByName: null, setAt: null });
    }
  });

  it('answers the current version: the same as the list item and the newest history entry', async () => {
    const roleId = await createRole(t, 'Limited role');
    await setLimits(t, leader.token, roleId, [{ currency: 'EUR', perCredit: 2500, perAgentDay: 10000 }]);
    const second = await setLimits(t, leader.token, roleId, [
      { currency: 'USD', perCredit: 3000 },
      { currency: 'EUR', perCredit: 5000, perCase: 7000 },
    ]);
    const current = await t.as(finance.token).get(`/v1/roles/${roleId}/limits`);
    expect(current.status).toBe(200);
    expect(current.body).toEqual(second);
    expect(current.body).toEqual({
      roleId,
      version: 2,
      limits: [
        { currency: 'EUR', perCredit: 5000, perCase: 7000, perAgentDay: null, perAgentMonth: null },
        { currency: 'USD', perCredit: 3000, perCase: null, perAgentDay: null, perAgentMonth: null },
      ],
      setBy: leader.id,
      setByName: expect.any(String),
      setAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const history = await t.as(leader.token).get(`/v1/roles/${roleId}/limits/history`);
    expect(history.body.data[0]).toEqual(current.body);

    const role = await t.as(finance.token).get(`/v1/roles/${roleId}`);
    expect(role.body).toMatchObject({ id: roleId, limitsVersion: 2, limits: current.body.limits });
    let listed: unknown;
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const page = await t.request('GET', `/v1/roles?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      listed ??= page.body.data.find((r: { id: string }) => r.id === roleId);
      cursor = page.body.nextCursor;
    }
    expect(role.body).toEqual(listed);
  });

  it('is 404 problem+json for an unknown or non-UUID id', async () => {
    for (const id of [randomUUID(), 'nope', '123']) {
      expectNotFound(await t.request('GET', `/v1/roles/${id}`));
      expectNotFound(await t.as(leader.token).get(`/v1/roles/${id}/limits`));
    }
  });
});
