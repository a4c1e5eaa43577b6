import SCIMMY from 'scimmy';
import { sqlFilter } from './scim-filter';

const COLUMNS = {
  id: { column: 'u.id', uuid: true },
  userName: { column: 'u.scim_user_name' },
  externalId: { column: 'u.scim_external_id' },
  displayName: { column: 'u.display_name' },
};
const ID = '0b9f1f7e-3f57-4c1e-9d0e-2f1a6d3c4b5a';

const sut = (expression: string, first = 1) => sqlFilter(new SCIMMY.Types.Filter(expression), COLUMNS, first);

describe(sqlFilter.name, () => {
  it('translates eq on the four attributes, whatever their case, with numbered parameters', () => {
    expect(sut('userName eq "ada@example.com"')).toEqual({
      where: '(u.scim_user_name = $1)',
      params: ['ada@example.com'],
    });
    expect(sut('ExternalID eq "00u1"', 3)).toEqual({ where: '(u.scim_external_id = $3)', params: ['00u1'] });
    expect(sut(`id eq "${ID}"`)).toEqual({ where: '(u.id = $1::uuid)', params: [ID] });
    expect(sut('displayName EQ "Care"')).toEqual({ where: '(u.display_name = $1)', params: ['Care'] });
  });

  it('joins and within a branch and or between branches', () => {
    expect(sut('userName eq "a" and externalId eq "b"')).toEqual({
      where: '(u.scim_user_name = $1 AND u.scim_external_id = $2)',
      params: ['a', 'b'],
    });
    expect(sut('userName eq "a" and userName eq "b"')).toEqual({
      where: '(u.scim_user_name = $1 AND u.scim_user_name = $2)',
      params: ['a', 'b'],
    });
    expect(sut('userName eq "a" or id eq "not-a-uuid"')).toEqual({
      where: '((u.scim_user_name = $1) OR (FALSE))',
      params: ['a'],
    });
  });

  it('leaves everything else to scimmy (null)', () => {
    for (const expression of [
      'userName co "a"',
      'userName ne "a"',
      'not (userName eq "a")',
      'userName eq "a" and active eq true',
      'emails[type eq "work"].value eq "a@example.com"',
      'emails.value eq "a@example.com"',
      'externalId eq null',
      'externalId eq 5',
      'userName pr',
      'meta.lastModified gt "2020-01-01T00:00:00Z"',
    ])
      expect({ expression, sql: sut(expression) }).toEqual({ expression, sql: null });
  });
});
