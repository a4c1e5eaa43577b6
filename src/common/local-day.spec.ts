import { localDay } from './local-day';

describe('localDay', () => {
  it('gives the calendar day in the zone, either side of midnight', () => {
    const at = new Date('2026-11-22T23:30:00Z');
    expect(localDay('UTC', at)).toBe('2026-11-22');
    expect(localDay('Asia/Tokyo', at)).toBe('2026-11-23');
    expect(localDay('America/Los_Angeles', at)).toBe('2026-11-22');
  });
});
