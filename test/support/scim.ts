import { TestApp } from './app';

/** A SCIM request as an identity provider sends it (`token` null: none at all), and its answer. */
export async function scimRequest(
  t: TestApp,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; type: string; body: any }> {
  const res = await t.inject({
    method,
    url: `/scim/v2${path}`,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
    },
    payload: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return {
    status: res.statusCode,
    type: String(res.headers['content-type'] ?? ''),
    body: res.body ? JSON.parse(res.body) : undefined,
  };
}
