import { describe, expect, it } from 'vitest';
import { matchParts } from './highlight';

describe('matchParts', () => {
  it('marks the first case-insensitive match inside the text', () => {
    expect(matchParts('Robert Smith', 'rob')).toEqual([
      { text: 'Rob', match: true },
      { text: 'ert Smith', match: false },
    ]);
    expect(matchParts('Robert Smith', 'SMI')).toEqual([
      { text: 'Robert ', match: false },
      { text: 'Smi', match: true },
      { text: 'th', match: false },
    ]);
    expect(matchParts('bob', ' ob ')).toEqual([
      { text: 'b', match: false },
      { text: 'ob', match: true },
    ]);
  });

  it('marks nothing when the text does not contain the query, or lower casing changes its length', () => {
    expect(matchParts('Robert Smith', 'bob')).toEqual([{ text: 'Robert Smith', match: false }]);
    expect(matchParts('İris', 'iri')).toEqual([{ text: 'İris', match: false }]);
    expect(matchParts('Robert', '')).toEqual([{ text: 'Robert', match: false }]);
  });
});
