import { randomUUID } from 'node:crypto';
import { createUser, signInWithLink } from './support/factories';
import { TestApp } from './support/app';
import { scimRequest } from './support/scim';

/**
 * SCIM 2.0 provisioning, driven with the request sequences Entra ID and Okta send (from their
 * published provisioning guides), against the real service and database.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let t: TestApp;
let scimToken: string;

function scim(method: string, path: string, body?: unknown, token: string | null = scimToken) {
  return scimRequest(t, token, method, path, body);
}

async function userRow(id: string) {
  const [row] = await t.query<Record<string, unknown>>(
    `SELECT display_name, external_ref, active, access, team_id, scim_user_name, scim_external_id, scim_deleted_at
       FROM users WHERE id = $1`,
    [id],
  );
  return row;
}

const filter = (expr: string) => `?filter=${encodeURIComponent(expr)}`;

beforeAll(async () => {
  t = await TestApp.start();
  const issued = await t.request('POST', '/v1/provisioning-tokens', { body: { label: 'Entra ID' } });
  expect(issued.status).toBe(201);
  scimToken = issued.body.token;
});

afterAll(async () => {
  await t?.close();
});

describe('SCIM access', () => {
  it('answers provisioning tokens only, in SCIM’s error format', async () => {
    const admin = await createUser(t, ['admin', 'agent', 'leader', 'finance', 'auditor']);
    for (const token of [null, admin.token, `lw_${'x'.repeat(43)}`]) {
      const res = await scim('GET', '/Users', undefined, token);
      expect(res.status).toBe(401);
      expect(res.type).toMatch(/^application\/scim\+json/);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '401' });
    }
    // …and a provisioning token opens nothing else.
    expect((await t.as(scimToken).get('/v1/me')).status).toBe(401);
  });

  it('are listed without the token, and a revoked one stops at once', async () => {
    const issued = await t.request('POST', '/v1/provisioning-tokens', { body: { label: 'Okta' } });
    expect((await scim('GET', '/ServiceProviderConfig', undefined, issued.body.token)).status).toBe(200);
    const listed = await t.request('GET', '/v1/provisioning-tokens');
    const row = listed.body.data.find((r: { id: string }) => r.id === issued.body.id);
    expect(row).toMatchObject({ label: 'Okta', revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(issued.body.token);
    expect(row.lastUsedAt).not.toBeNull();
    expect((await t.request('DELETE', `/v1/provisioning-tokens/${issued.body.id}`)).status).toBe(204);
    expect((await scim('GET', '/Users', undefined, issued.body.token)).status).toBe(401);
    const audit = await t.query<{ action: string }>(
      `SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY id`,
      [issued.body.id],
    );
    expect(audit.map((a) => a.action)).toEqual(['provisioning_token.issued', 'provisioning_token.revoked']);
  });

  it('take an optional expiry, kept and enforced: an expired one opens nothing', async () => {
    const past = await t.request('POST', '/v1/provisioning-tokens', { body: { expiresAt: '2020-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    expect(past.body.errors[0].field).toBe('expiresAt');
    const far = await t.request('POST', '/v1/provisioning-tokens', {
      body: { expiresAt: new Date(Date.now() + 4 * 366 * 86_400_000).toISOString() },
    });
    expect(far.status).toBe(400);
    const at = new Date(Date.now() + 86_400_000).toISOString();
    const issued = await t.request('POST', '/v1/provisioning-tokens', { body: { label: 'Okta', expiresAt: at } });
    expect(issued.status).toBe(201);
    expect(issued.body.expiresAt).toBe(at);
    const listed = await t.request('GET', '/v1/provisioning-tokens');
    expect(listed.body.data.find((r: { id: string }) => r.id === issued.body.id)).toMatchObject({ expiresAt: at });
    const [audit] = await t.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE action = 'provisioning_token.issued' AND subject_id = $1`,
      [issued.body.id],
    );
    expect(audit.details).toEqual({ label: 'Okta', expiresAt: at });
    expect((await scim('GET', '/Users', undefined, issued.body.token)).status).toBe(200);
    await t.query(`UPDATE provisioning_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      issued.body.id,
    ]);
    const expired = await scim('GET', '/Users', undefined, issued.body.token);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ schemas: [ERROR], status: '401' });
    // Without expiresAt, never.
    const forever = await t.request('POST', '/v1/provisioning-tokens', { body: { label: 'Entra' } });
    expect(forever.body.expiresAt).toBeNull();
  });

  it('describes itself: service provider config, resource types, schemas', async () => {
    const config = await scim('GET', '/ServiceProviderConfig');
    expect(config.body.patch.supported).toBe(true);
    expect(config.body.filter.supported).toBe(true);
    const types = await scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: { name: string }) => r.name).sort()).toEqual(['Group', 'User']);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.body.Resources.map((r: { id: string }) => r.id)).toEqual(
      expect.arrayContaining([USER, GROUP, ENTERPRISE]),
    );
  });
});

describe('Entra ID’s sequence', () => {
  const userName = `Test_User_${randomUUID()}@contoso.com`;
  const externalId = randomUUID();
  let id: string;

  it('looks the user up, creates them as an agent, and reads them back', async () => {
    const none = await scim('GET', `/Users${filter(`userName eq "${userName}"`)}`);
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ schemas: [LIST], totalResults: 0, Resources: [] });
    const created = await scim('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      externalId,
      userName,
      active: true,
      emails: [{ primary: true, type: 'work', value: userName }],
      meta: { resourceType: 'User' },
      name: { formatted: 'Ada Lovelace', familyName: 'Lovelace', givenName: 'Ada' },
      roles: [],
      [ENTERPRISE]: { employeeNumber: '1701', department: 'Care' },
    });
    expect(created.status).toBe(201);
    expect(created.type).toMatch(/^application\/scim\+json/);
    id = created.body.id;
    expect(created.body).toMatchObject({ userName, externalId, active: true, displayName: 'Ada Lovelace' });
    expect(created.body.meta.location).toMatch(new RegExp(`/scim/v2/Users/${id}$`));
    expect(await userRow(id)).toMatchObject({
      display_name: 'Ada Lovelace',
      external_ref: userName,
      active: true,
      access: ['agent'],
      scim_user_name: userName,
      scim_external_id: externalId,
    });
    expect((await scim('GET', `/Users/${id}`)).body.userName).toBe(userName);
    const found = await scim('GET', `/Users${filter(`userName eq "${userName}"`)}`);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(id);
    const audit = await t.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE action = 'user.created' AND subject_id = $1`,
      [id],
    );
    expect(audit[0].details).toMatchObject({ via: 'scim' });
  });

  it('refuses a second user with the same userName (409 uniqueness), changing nothing', async () => {
    const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
    const again = await scim('POST', '/Users', { schemas: [USER], userName, active: true });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
    expect((await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`))[0].n).toBe(n);
  });

  it('patches with capitalised operations', async () => {
    const res = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Ada King' },
        { op: 'Replace', path: 'name.familyName', value: 'King' },
        { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Retention' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('Ada King');
    expect((await userRow(id)).display_name).toBe('Ada King');
  });

  // Microsoft's SCIM validator bodies for the default attribute mappings (externalId ← mailNickname,
  // emails[type eq "work"].value ← mail, manager as a bare id), each with what it must change.
  it('takes the default mapping’s work-email patch: 200, and the reference stays', async () => {
    const before = await userRow(id);
    const res = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada.king@contoso.com' },
        { op: 'Replace', path: 'name.familyName', value: 'King' },
      ],
    });
    expect(res.status).toBe(200);
    // Leeway keeps no address apart from userName: the reference people sign in by does not move.
    expect(await userRow(id)).toEqual(before);
  });

  it('takes the default mapping’s pathless Add, keyed by paths: 200, and the display name changes', async () => {
    const res = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        {
          op: 'Add',
          value: {
            displayName: 'Ada K. King',
            'emails[type eq "work"].value': 'ada.king@contoso.com',
            'name.givenName': 'Ada',
            [`${ENTERPRISE}:department`]: 'Retention',
          },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('Ada K. King');
    expect((await userRow(id)).display_name).toBe('Ada K. King');
  });

  it('takes a manager given as a bare id string: 200, and nothing else changes', async () => {
    const manager = (await scim('POST', '/Users', { schemas: [USER], userName: `boss-${randomUUID()}@contoso.com` }))
      .body.id;
    const before = await userRow(id);
    for (const op of ['Add', 'Replace']) {
      const res = await scim('PATCH', `/Users/${id}`, {
        schemas: [PATCH],
        Operations: [{ op, path: `${ENTERPRISE}:manager`, value: manager }],
      });
      expect({ op, status: res.status }).toEqual({ op, status: 200 });
    }
    expect(await userRow(id)).toEqual(before);
  });

  it('takes an externalId change (the mail alias): 200, stored, and the userName reference stays', async () => {
    const alias = `aking-${randomUUID().slice(0, 6)}`;
    const res = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'externalId', value: alias }],
    });
    expect(res.status).toBe(200);
    expect(res.body.externalId).toBe(alias);
    expect(await userRow(id)).toMatchObject({ scim_external_id: alias, external_ref: userName, active: true });
    const found = await scim('GET', `/Users${filter(`externalId eq "${alias}"`)}`);
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
  });

  it('takes active as the string "False" in a pathless Replace: 200, and the user is deactivated', async () => {
    const res = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', value: { active: 'False' } }],
    });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    expect((await userRow(id)).active).toBe(false);
    const back = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
    });
    expect(back.status).toBe(200);
    expect((await userRow(id)).active).toBe(true);
  });

  it('disables the user ("False", as Entra sends it): every session, token and link ends at once', async () => {
    const session = await signInWithLink(t, id);
    const token = await t.request('POST', `/v1/users/${id}/tokens`, { body: { label: 'helpdesk' } });
    const link = await t.request('POST', `/v1/users/${id}/sign-in-links`);
    expect((await t.as(session.token).get('/v1/me')).status).toBe(200);
    const res = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    expect((await t.as(session.token).get('/v1/me')).status).toBe(401);
    expect((await t.as(token.body.token).get('/v1/me')).status).toBe(401);
    const redeemed = await t.request('POST', '/v1/sessions', {
      token: null,
      body: { link: link.body.url.split('#link=')[1] },
    });
    expect(redeemed.status).toBe(401);
    const [audit] = await t.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE action = 'user.deprovisioned' AND subject_id = $1 ORDER BY id DESC LIMIT 1`,
      [id],
    );
    expect(audit.details).toMatchObject({ via: 'scim', revoked: { tokens: 2, links: 1 } });
    // Re-enabling brings none of them back.
    expect(
      (
        await scim('PATCH', `/Users/${id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'Replace', path: 'active', value: true }],
        })
      ).status,
    ).toBe(200);
    expect((await t.as(session.token).get('/v1/me')).status).toBe(401);
  });

  it('deletes: the user is deactivated (the ledger keeps them) and SCIM no longer finds them', async () => {
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    const row = await userRow(id);
    expect(row.active).toBe(false);
    expect(row.scim_deleted_at).not.toBeNull();
    expect((await scim('GET', `/Users/${id}`)).status).toBe(404);
    expect((await scim('GET', `/Users${filter(`userName eq "${userName}"`)}`)).body.totalResults).toBe(0);
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(404);
    // Provisioned again, even with the same externalId (Entra ID reuses mail aliases): a new user,
    // never the deleted one's account and history.
    const back = await scim('POST', '/Users', {
      schemas: [USER],
      userName,
      externalId,
      active: true,
      displayName: 'Ada',
    });
    expect(back.status).toBe(201);
    expect(back.body.id).not.toBe(id);
    expect(await userRow(id)).toMatchObject({ active: false, external_ref: null, scim_user_name: null });
    expect(await userRow(back.body.id)).toMatchObject({ active: true, access: ['agent'], scim_deleted_at: null });
    id = back.body.id;
  });

  it('manages a group as a team: create, add and remove members, rename, delete', async () => {
    const member = (await scim('POST', '/Users', { schemas: [USER], userName: `m-${randomUUID()}@contoso.com` })).body
      .id;
    const group = await scim('POST', '/Groups', {
      schemas: [GROUP],
      externalId: randomUUID(),
      displayName: `Care ${randomUUID().slice(0, 6)}`,
      meta: { resourceType: 'Group' },
    });
    expect(group.status).toBe(201);
    const gid = group.body.id;
    const [team] = await t.query<{ name: string }>(`SELECT name FROM teams WHERE id = $1`, [gid]);
    expect(team.name).toBe(group.body.displayName);
    const byName = await scim(
      'GET',
      `/Groups${filter(`displayName eq "${group.body.displayName}"`)}&excludedAttributes=members`,
    );
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0].members).toBeUndefined();
    const added = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: member }, { value: id }] }],
    });
    expect(added.status).toBe(200);
    expect((await userRow(member)).team_id).toBe(gid);
    expect((await userRow(id)).team_id).toBe(gid);
    const removed = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: member }] }],
    });
    expect(removed.status).toBe(200);
    expect((await userRow(member)).team_id).toBeNull();
    expect((await userRow(id)).team_id).toBe(gid);
    expect((await scim('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect((await userRow(id)).team_id).toBeNull();
    expect(await t.query(`SELECT 1 FROM teams WHERE id = $1`, [gid])).toHaveLength(1);
    expect((await scim('GET', `/Groups/${gid}`)).status).toBe(404);
  });
});

describe('Okta’s sequence', () => {
  const login = `okta.${randomUUID().slice(0, 8)}@example.com`;
  let id: string;

  it('looks up with paging, creates with a password it will never read back, and replaces with PUT', async () => {
    const none = await scim('GET', `/Users${filter(`userName eq "${login}"`)}&startIndex=1&count=100`);
    expect(none.body).toMatchObject({ totalResults: 0, startIndex: 1 });
    const created = await scim('POST', '/Users', {
      schemas: [USER],
      userName: login,
      name: { givenName: 'Grace', familyName: 'Hopper' },
      emails: [{ primary: true, value: login, type: 'work' }],
      displayName: 'Grace Hopper',
      locale: 'en-US',
      externalId: '00u1abcd',
      groups: [],
      password: 'i-am-never-stored-1!',
      active: true,
    });
    expect(created.status).toBe(201);
    id = created.body.id;
    expect(created.body.password).toBeUndefined();
    expect(JSON.stringify(await userRow(id))).not.toContain('i-am-never-stored');
    const replaced = await scim('PUT', `/Users/${id}`, {
      schemas: [USER],
      id,
      userName: login,
      name: { givenName: 'Grace', familyName: 'Hopper' },
      displayName: 'Rear Admiral Grace Hopper',
      active: true,
    });
    expect(replaced.status).toBe(200);
    expect((await userRow(id)).display_name).toBe('Rear Admiral Grace Hopper');
  });

  it('deactivates with a value-object patch', async () => {
    const session = await signInWithLink(t, id);
    const res = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(res.status).toBe(200);
    expect((await userRow(id)).active).toBe(false);
    expect((await t.as(session.token).get('/v1/me')).status).toBe(401);
  });

  it('renames a group and removes a member by filter', async () => {
    const member = (await scim('POST', '/Users', { schemas: [USER], userName: `o-${randomUUID()}@example.com` })).body
      .id;
    const group = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: `Okta ${randomUUID().slice(0, 6)}`,
      members: [{ value: member, display: 'someone' }],
    });
    expect(group.status).toBe(201);
    expect((await userRow(member)).team_id).toBe(group.body.id);
    const renamed = await scim('PATCH', `/Groups/${group.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { id: group.body.id, displayName: 'Okta renamed' } }],
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.displayName).toBe('Okta renamed');
    const removed = await scim('PATCH', `/Groups/${group.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${member}"]` }],
    });
    expect(removed.status).toBe(200);
    expect((await userRow(member)).team_id).toBeNull();
  });
});

describe('what provisioning may not do', () => {
  it('sees only the users it provisioned or linked; links a Leeway user by reference, never an admin', async () => {
    const local = await t.request('POST', '/v1/users', {
      body: { displayName: 'Made in Leeway', access: ['agent'], externalRef: 'local.agent@example.com' },
    });
    const admin = await t.request('POST', '/v1/users', {
      body: { displayName: 'Local Admin', access: ['admin'], externalRef: 'local.admin@example.com' },
    });
    const listed = await scim('GET', '/Users?count=1000');
    const ids = listed.body.Resources.map((r: { id: string }) => r.id);
    expect(ids).not.toContain(local.body.id);
    expect(ids).not.toContain(admin.body.id);
    expect((await scim('GET', `/Users/${admin.body.id}`)).status).toBe(404);
    expect((await scim('DELETE', `/Users/${admin.body.id}`)).status).toBe(404);
    expect(
      (
        await scim('PATCH', `/Users/${admin.body.id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'replace', path: 'userName', value: 'mallory@example.com' }],
        })
      ).status,
    ).toBe(404);
    // The provider creates the agent: linked to the existing user, same id, same history.
    const linked = await scim('POST', '/Users', { schemas: [USER], userName: 'local.agent@example.com', active: true });
    expect(linked.status).toBe(201);
    expect(linked.body.id).toBe(local.body.id);
    // …but not the admin: an admin decides that in Leeway.
    const refused = await scim('POST', '/Users', {
      schemas: [USER],
      userName: 'local.admin@example.com',
      active: true,
    });
    expect(refused.status).toBe(409);
    expect(await userRow(admin.body.id)).toMatchObject({
      external_ref: 'local.admin@example.com',
      active: true,
      scim_user_name: null,
    });
    // A linked user given admin access in Leeway cannot be repointed by provisioning.
    expect(
      (await t.request('PATCH', `/v1/users/${local.body.id}`, { body: { access: ['agent', 'admin'] } })).status,
    ).toBe(200);
    const repoint = await scim('PATCH', `/Users/${local.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'userName', value: 'mallory@example.com' }],
    });
    expect(repoint.status).toBe(400);
    expect(repoint.body.scimType).toBe('mutability');
    expect((await userRow(local.body.id)).external_ref).toBe('local.agent@example.com');
  });

  it('does not lift a deactivation made in Leeway, and moves no unlinked user between teams', async () => {
    const made = await scim('POST', '/Users', {
      schemas: [USER],
      userName: `held-${randomUUID()}@example.com`,
      active: true,
    });
    expect((await t.request('PATCH', `/v1/users/${made.body.id}`, { body: { active: false } })).status).toBe(200);
    const back = await scim('PUT', `/Users/${made.body.id}`, {
      schemas: [USER],
      userName: made.body.userName,
      active: true,
    });
    expect(back.status).toBe(200);
    expect(back.body.active).toBe(false);
    expect((await userRow(made.body.id)).active).toBe(false);
    // An admin lifts it in Leeway; then the provider's word counts again.
    expect((await t.request('PATCH', `/v1/users/${made.body.id}`, { body: { active: true } })).status).toBe(200);
    const off = await scim('PATCH', `/Users/${made.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(off.body.active).toBe(false);

    const outsider = await createUser(t, ['leader']);
    const group = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: `Mixed ${randomUUID().slice(0, 6)}`,
      members: [{ value: outsider.id }],
    });
    expect(group.status).toBe(201);
    expect((await userRow(outsider.id)).team_id).toBeNull();
    expect(group.body.members ?? []).toEqual([]);
  });

  it('makes a new user of every create after a delete, whether the address or the externalId is reused', async () => {
    const externalId = randomUUID();
    const userName = `reused-${randomUUID()}@example.com`;
    const first = await scim('POST', '/Users', { schemas: [USER], userName, externalId, active: true });
    expect(
      (await t.request('PATCH', `/v1/users/${first.body.id}`, { body: { access: ['leader', 'finance'] } })).status,
    ).toBe(200);
    expect((await scim('DELETE', `/Users/${first.body.id}`)).status).toBe(204);
    expect((await userRow(first.body.id)).external_ref).toBeNull();
    // The address goes to somebody else: a new user, not the old one's history and access.
    const newcomer = await scim('POST', '/Users', {
      schemas: [USER],
      userName,
      externalId: randomUUID(),
      active: true,
    });
    expect(newcomer.status).toBe(201);
    expect(newcomer.body.id).not.toBe(first.body.id);
    expect((await userRow(newcomer.body.id)).access).toEqual(['agent']);
    expect((await scim('DELETE', `/Users/${newcomer.body.id}`)).status).toBe(204);
    // The first one's externalId again: still somebody new, for the provider may have reused it.
    const again = await scim('POST', '/Users', { schemas: [USER], userName, externalId, active: true });
    expect(again.status).toBe(201);
    expect([first.body.id, newcomer.body.id]).not.toContain(again.body.id);
    expect(await userRow(again.body.id)).toMatchObject({ access: ['agent'], active: true, external_ref: userName });
    expect(await userRow(first.body.id)).toMatchObject({
      access: ['leader', 'finance'],
      active: false,
      external_ref: null,
    });
    const listed = await scim('GET', `/Users${filter(`externalId eq "${externalId}"`)}`);
    expect(listed.body.Resources.map((r: { id: string }) => r.id)).toEqual([again.body.id]);
  });

  it.each([
    ['a leader', ['leader']],
    ['finance', ['agent', 'finance']],
    ['an auditor', ['auditor']],
    ['an admin', ['admin']],
    ['an integration', ['integration']],
  ])('never links %s made in Leeway (409), changing nothing', async (_who, access) => {
    const externalRef = `held-${randomUUID()}@example.com`;
    const local = await t.request('POST', '/v1/users', { body: { displayName: 'Held', access, externalRef } });
    expect(local.status).toBe(201);
    const before = await userRow(local.body.id);
    const [{ n }] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
    const res = await scim('POST', '/Users', { schemas: [USER], userName: externalRef, active: false });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
    expect(res.body.detail).toMatch(access[0] === 'integration' ? /never links an integration/ : /more than agent/);
    expect(await userRow(local.body.id)).toEqual(before);
    expect((await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`))[0].n).toBe(n);
  });

  it('repoints an agent only, ending their sessions (not their API tokens) in the same change', async () => {
    const userName = `repoint-${randomUUID()}@example.com`;
    const made = await scim('POST', '/Users', { schemas: [USER], userName, active: true });
    const id = made.body.id;
    const session = await signInWithLink(t, id);
    const apiToken = (await t.request('POST', `/v1/users/${id}/tokens`, { body: { label: 'macro' } })).body.token;
    const renamed = `renamed-${randomUUID()}@example.com`;
    const res = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'userName', value: renamed }],
    });
    expect(res.status).toBe(200);
    expect((await userRow(id)).external_ref).toBe(renamed);
    expect((await t.as(session.token).get('/v1/me')).status).toBe(401);
    expect((await t.as(apiToken).get('/v1/me')).status).toBe(200);
    const [audit] = await t.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE action = 'user.changed' AND subject_id = $1 ORDER BY id DESC LIMIT 1`,
      [id],
    );
    expect(audit.details).toMatchObject({
      externalRef: { from: userName, to: renamed },
      revoked: { sessions: 1 },
      via: 'scim',
    });
    // A rename that leaves the reference alone ends nothing.
    const second = await signInWithLink(t, id);
    await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Someone Else' }],
    });
    expect((await t.as(second.token).get('/v1/me')).status).toBe(200);
    // Given more than agent access in Leeway, they are no longer the provider's to repoint.
    for (const access of [['agent', 'leader'], ['finance'], ['auditor'], ['agent', 'admin']]) {
      expect((await t.request('PATCH', `/v1/users/${id}`, { body: { access } })).status).toBe(200);
      const refused = await scim('PATCH', `/Users/${id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'userName', value: `mallory-${randomUUID()}@example.com` }],
      });
      expect(refused.status).toBe(400);
      expect(refused.body.scimType).toBe('mutability');
      expect((await userRow(id)).external_ref).toBe(renamed);
      expect((await t.as(second.token).get('/v1/me')).status).toBe(200);
    }
  });
});

describe('bad requests', () => {
  it('answer 400 in SCIM’s format and change nothing', async () => {
    const before = await t.tableDigests(['audit_events', 'provisioning_tokens']);
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', '/Users', { schemas: [USER] }, 400],
      ['POST', '/Users', { schemas: [USER], userName: 'x', active: 'sometimes' }, 400],
      ['GET', `/Users${filter('userName zz "x"')}`, undefined, 400],
      ['PATCH', `/Users/${randomUUID()}`, { schemas: [PATCH], Operations: [{ op: 'explode' }] }, 400],
      [
        'PATCH',
        `/Users/${randomUUID()}`,
        { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: true }] },
        404,
      ],
      ['POST', '/Groups', { schemas: [GROUP] }, 400],
      ['GET', '/Users/not-a-uuid', undefined, 404],
    ];
    for (const [method, path, body, expected] of cases) {
      const res = await scim(method, path, body);
      expect({ method, path, body, status: res.status }).toEqual({ method, path, body, status: expected });
      expect(res.body).toMatchObject({ schemas: [ERROR], status: String(res.status) });
    }
    const notJson = await t.inject({
      method: 'POST',
      url: '/scim/v2/Users',
      headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
      payload: '{"userName":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(JSON.parse(notJson.body)).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' });
    expect(await t.tableDigests(['audit_events', 'provisioning_tokens'])).toEqual(before);
  });
});

describe('lookups among many users', () => {
  const USERS_READ = /FROM users u LEFT JOIN teams t/;

  beforeAll(async () => {
    // Seeded straight into the database, a millisecond apart so that their order is known.
    await t.query(
      `INSERT INTO users (display_name, access, external_ref, scim_user_name, scim_external_id, created_at)
       SELECT CASE WHEN i % 1000 = 0 THEN 'Same Name' ELSE 'Bulk ' || i END, ARRAY['agent'],
              'bulk-' || i || '@example.com', 'bulk-' || i || '@example.com', 'ext-' || i,
              now() + i * interval '1 millisecond'
         FROM generate_series(1, 5000) AS i`,
    );
  });

  /** Runs a SCIM call and answers what it asked the database for users, with what each read returned. */
  async function watched(path: string) {
    const spy = jest.spyOn(t.dataSource, 'query');
    try {
      const res = await scim('GET', path);
      const reads = await Promise.all(
        spy.mock.calls.flatMap(([sql, params], i) =>
          USERS_READ.test(sql)
            ? [
                Promise.resolve(spy.mock.results[i].value).then((rows: unknown[]) => ({
                  sql,
                  params,
                  rows: rows.length,
                })),
              ]
            : [],
        ),
      );
      return { res, reads };
    } finally {
      spy.mockRestore();
    }
  }

  it('find one user by userName with a WHERE clause, reading that row and no other', async () => {
    const { res, reads } = await watched(`/Users${filter('userName eq "bulk-4321@example.com"')}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 1, startIndex: 1 });
    expect(res.body.Resources.map((r: { externalId: string }) => r.externalId)).toEqual(['ext-4321']);
    expect(reads).toHaveLength(1);
    expect(reads[0].sql).toMatch(/AND \(u\.scim_user_name = \$1\) ORDER BY u\.created_at, u\.id OFFSET \$2 LIMIT \$3$/);
    expect(reads[0].params).toEqual(['bulk-4321@example.com', 0, 20]);
    expect(reads[0].rows).toBe(1);
  });

  it('find by externalId, by id, and by an and of them the same way', async () => {
    const byExternalId = await watched(`/Users${filter('externalId eq "ext-17"')}`);
    expect(byExternalId.res.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
      'bulk-17@example.com',
    ]);
    expect(byExternalId.reads.map((r) => r.rows)).toEqual([1]);
    const id = byExternalId.res.body.Resources[0].id as string;
    const both = await watched(`/Users${filter(`id eq "${id}" and userName eq "bulk-17@example.com"`)}`);
    expect(both.res.body.totalResults).toBe(1);
    expect(both.reads).toHaveLength(1);
    expect(both.reads[0].sql).toMatch(/\(u\.id = \$1::uuid AND u\.scim_user_name = \$2\)/);
    // A case that differs is no match, as in scimmy's own matching.
    const otherCase = await watched(`/Users${filter('userName eq "BULK-17@example.com"')}`);
    expect(otherCase.res.body.totalResults).toBe(0);
    expect(otherCase.reads.map((r) => r.rows)).toEqual([0]);
  });

  it('page in SQL by startIndex and count, with the total counted there too', async () => {
    const { res, reads } = await watched(`/Users${filter('displayName eq "Same Name"')}&startIndex=2&count=2`);
    expect(res.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(res.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
      'bulk-2000@example.com',
      'bulk-3000@example.com',
    ]);
    expect(reads.map((r) => r.rows)).toEqual([2]);
    const last = await watched(`/Users${filter('displayName eq "Same Name"')}&startIndex=5&count=2`);
    expect(last.res.body).toMatchObject({ totalResults: 5, startIndex: 5 });
    expect(last.res.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['bulk-5000@example.com']);
    // Unfiltered, a page of the whole list reads that page.
    const page = await watched('/Users?startIndex=101&count=10');
    expect(page.res.body.Resources).toHaveLength(10);
    expect(page.res.body.startIndex).toBe(101);
    expect(page.res.body.totalResults).toBeGreaterThanOrEqual(5000);
    expect(page.reads.map((r) => r.rows)).toEqual([10]);
  });

  it('leave any other filter to scimmy, which still answers it right', async () => {
    const { res, reads } = await watched(`/Users${filter('userName sw "bulk-432"')}&count=100`);
    expect(res.body.totalResults).toBe(11);
    expect(reads).toHaveLength(1);
    expect(reads[0].rows).toBeGreaterThanOrEqual(5000);
  });

  it('find a group by displayName with a WHERE clause', async () => {
    const name = `Lookup ${randomUUID().slice(0, 6)}`;
    expect((await scim('POST', '/Groups', { schemas: [GROUP], displayName: name })).status).toBe(201);
    const spy = jest.spyOn(t.dataSource, 'query');
    try {
      const res = await scim('GET', `/Groups${filter(`displayName eq "${name}"`)}`);
      expect(res.body.Resources.map((g: { displayName: string }) => g.displayName)).toEqual([name]);
      const read = spy.mock.calls.find(([sql]) => /FROM teams t WHERE/.test(sql));
      expect(read?.[0]).toMatch(/AND \(t\.name = \$1\)/);
      expect(read?.[1]).toEqual([name, 0, 20]);
    } finally {
      spy.mockRestore();
    }
  });
});
