import { Reply } from './app';

/**
 * The response is a problem+json of this status (and, given a slug, of this type): type, title,
 * status and detail present, the media type right.
 */
export function expectProblem(res: Reply, status: number, slug?: string): void {
  expect({ status: res.status, text: res.text.slice(0, 400) }).toEqual({ status, text: expect.any(String) });
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: expect.stringMatching(/^https?:\/\/\S+$/),
    title: expect.stringMatching(/\S/),
    status,
    detail: expect.any(String),
  });
  if (slug) expect(res.body.type).toMatch(new RegExp(`/${slug}$`));
}
