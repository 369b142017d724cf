import { describe, expect, it } from 'vitest';
import { linkParts, safeHref } from './links';
import { firstGrapheme } from './graphemes';

describe('linkParts', () => {
  it('cuts the addresses out of the text, leaving sentence punctuation outside', () => {
    expect(linkParts('see https://example.com/a?b=1, then http://x.org.')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { text: ', then ' },
      { text: 'http://x.org', href: 'http://x.org/' },
      { text: '.' },
    ]);
  });

  it('keeps a balanced parenthesis and drops an enclosing one', () => {
    expect(linkParts('(https://en.wikipedia.org/wiki/Rust_(language))')[1]).toEqual({
      text: 'https://en.wikipedia.org/wiki/Rust_(language)',
      href: 'https://en.wikipedia.org/wiki/Rust_(language)',
    });
  });

  it('never links other schemes', () => {
    expect(linkParts('javascript:alert(1) data:text/html,x ftp://h/')).toEqual([{ text: 'javascript:alert(1) data:text/html,x ftp://h/' }]);
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('https://')).toBeNull();
  });
});

describe('firstGrapheme', () => {
  it('takes a whole emoji, flag or accented letter, not half a surrogate pair', () => {
    expect(firstGrapheme('🦊 Fox')).toBe('🦊');
    expect(firstGrapheme('👩🏽‍💻 Dev')).toBe('👩🏽‍💻');
    expect(firstGrapheme('🇫🇷')).toBe('🇫🇷');
    expect(firstGrapheme('e\u0301mile')).toBe('e\u0301');
    expect(firstGrapheme('')).toBe('');
  });
});
