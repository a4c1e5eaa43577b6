import { orMemory } from './storage';

describe(orMemory.name, () => {
  it('keeps values in memory where the browser denies its storage (a frame from another site)', () => {
    const sut = orMemory(() => {
      throw new DOMException("Failed to read the 'sessionStorage' property from 'Window'", 'SecurityError');
    })();
    expect(sut.getItem('leeway.session')).toBeNull();
    sut.setItem('leeway.session', 'token');
    expect(sut.getItem('leeway.session')).toBe('token');
    sut.removeItem('leeway.session');
    expect(sut.getItem('leeway.session')).toBeNull();
  });

  it('uses the browser’s storage where it may, and keeps using the same one', () => {
    const values = new Map<string, string>();
    const storage = {
      getItem: (k: string) => values.get(k) ?? null,
      setItem: (k: string, v: string) => void values.set(k, v),
      removeItem: (k: string) => void values.delete(k),
    } as Storage;
    let opened = 0;
    const sut = orMemory(() => (opened++, storage));
    sut().setItem('leeway.language', 'pl');
    expect(values.get('leeway.language')).toBe('pl');
    expect(sut().getItem('leeway.language')).toBe('pl');
    expect(opened).toBe(1);
  });
});
