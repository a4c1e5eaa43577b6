import { TestApp } from './support/app';
import { createUser } from './support/factories';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates an agent who can read /v1/me', async () => {
    const agent = await createUser(t, ['agent']);
    const me = await t.as(agent.token).get('/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: agent.id, access: ['agent'], role: null, team: null });
  });
});
