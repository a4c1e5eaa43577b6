import { acceptHandOver, popupAddress } from './popup-sign-in';

describe(acceptHandOver.name, () => {
  const popup = { name: 'the sign-in window' };
  const mark = '0b4f3c1e-6a2d-4e8f-9c7b-5d1a2e3f4a5b';
  const expected = { origin: 'https://leeway.example.com', popup, mark };
  const handOver = (over: Partial<{ origin: string; source: unknown; data: unknown }> = {}) => ({
    origin: 'https://leeway.example.com',
    source: popup,
    data: { type: 'leeway.session', session: 's3cr3t', mark },
    ...over,
  });

  it('takes the session from the window it opened, on its own origin, with its mark', () => {
    expect(acceptHandOver(handOver(), expected)).toBe('s3cr3t');
  });

  it.each([
    ['another origin', handOver({ origin: 'https://helpdesk.example.com' })],
    ['another window', handOver({ source: { name: 'some other window' } })],
    ['no window', handOver({ source: null })],
    ['another mark', handOver({ data: { type: 'leeway.session', session: 's3cr3t', mark: `${mark}x` } })],
    ['no mark', handOver({ data: { type: 'leeway.session', session: 's3cr3t' } })],
    ['another kind of message', handOver({ data: { type: 'resize', session: 's3cr3t', mark } })],
    ['an empty session', handOver({ data: { type: 'leeway.session', session: '', mark } })],
    ['a session that is not text', handOver({ data: { type: 'leeway.session', session: { token: 1 }, mark } })],
    ['no data', handOver({ data: null })],
    ['a string', handOver({ data: 'leeway.session s3cr3t' })],
  ])('ignores a message from %s', (_, message) => {
    expect(acceptHandOver(message, expected)).toBeNull();
  });

  it('ignores every message while it waits for no window, or has no mark', () => {
    expect(acceptHandOver(handOver(), { ...expected, popup: null })).toBeNull();
    expect(acceptHandOver(handOver(), { ...expected, mark: null })).toBeNull();
  });
});

describe(popupAddress.name, () => {
  it('keeps the mark and the language in the fragment, which no server sees', () => {
    const sut = new URL(popupAddress('0b4f3c1e-6a2d-4e8f-9c7b-5d1a2e3f4a5b', 'pl'), 'https://leeway.example.com');
    expect(sut.pathname).toBe('/sign-in');
    expect(sut.search).toBe('');
    expect(new URLSearchParams(sut.hash.slice(1)).get('popup')).toBe('0b4f3c1e-6a2d-4e8f-9c7b-5d1a2e3f4a5b');
    expect(new URLSearchParams(sut.hash.slice(1)).get('lang')).toBe('pl');
  });
});
