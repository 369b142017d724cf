// The first user-perceived character of a text: an emoji, a flag or a letter with its accents is one, though
// it takes several UTF-16 units (the first of which alone renders as �).
const segmenter = typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

export function firstGrapheme(text: string): string {
  if (!text) return '';
  if (segmenter) {
    for (const { segment } of segmenter.segment(text)) return segment;
  }
  return Array.from(text)[0] ?? '';
}
