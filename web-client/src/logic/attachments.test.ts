import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/auth';
import type { Attachment } from '../api/types';
import {
  attachmentRefusalMessage,
  attachmentSummary,
  fileKind,
  formatSize,
  isImage,
  isRetryableUpload,
  mediaUrl,
  previewText,
  thumbBox,
  uploadErrorMessage,
} from './attachments';

const photo: Attachment = { id: 'a1', name: 'cat.png', content_type: 'image/png', size: 2048, width: 640, height: 480, url: '/api/attachments/a1', thumbnail_url: '/api/attachments/a1/thumbnail' };
const pdf: Attachment = { id: 'a2', name: 'report.pdf', content_type: 'application/pdf', size: 1_234_567, url: '/api/attachments/a2' };

describe('formatSize', () => {
  it('counts bytes under a kilobyte as bytes', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1)).toBe('1 B');
    expect(formatSize(1023)).toBe('1023 B');
  });
  it('keeps one decimal below 10 and none above, dropping a ".0"', () => {
    expect(formatSize(1024)).toBe('1 KB');
    expect(formatSize(1536)).toBe('1.5 KB');
    expect(formatSize(1_234_567)).toBe('1.2 MB');
    expect(formatSize(12.4 * 1024 * 1024)).toBe('12 MB');
    expect(formatSize(25 * 1024 * 1024)).toBe('25 MB');
    expect(formatSize(3 * 1024 ** 3)).toBe('3 GB');
  });
  it('goes up a unit instead of saying "1024 KB"', () => {
    expect(formatSize(1024 * 1024 - 1)).toBe('1 MB');
  });
  it('says nothing for a size that is not one', () => {
    expect(formatSize(-1)).toBe('');
    expect(formatSize(Number.NaN)).toBe('');
  });
});

describe('thumbBox', () => {
  it('fits a large image into 280×280 keeping its shape', () => {
    expect(thumbBox(4000, 3000)).toEqual({ width: 280, height: 210 });
    expect(thumbBox(1080, 1920)).toEqual({ width: 158, height: 280 });
  });
  it('never enlarges a small image', () => {
    expect(thumbBox(120, 90)).toEqual({ width: 120, height: 90 });
  });
  it('keeps a sliver at least 60 px on its short side (cropped by object-fit)', () => {
    expect(thumbBox(3000, 30)).toEqual({ width: 280, height: 60 });
  });
  it('takes a square when the size is unknown', () => {
    expect(thumbBox(null, null)).toEqual({ width: 200, height: 200 });
    expect(thumbBox(0, 10)).toEqual({ width: 200, height: 200 });
  });
});

describe('media URLs and kinds', () => {
  it('adds the media token as a query parameter, encoded', () => {
    expect(mediaUrl('/api/attachments/a1', 'x.y+z')).toBe('/api/attachments/a1?media_token=x.y%2Bz');
    expect(mediaUrl('/a?b=1', 't')).toBe('/a?b=1&media_token=t');
  });
  it('has no URL before there is a token', () => {
    expect(mediaUrl('/api/attachments/a1', null)).toBeNull();
  });
  it('tells images (with a thumbnail) from other files', () => {
    expect(isImage(photo)).toBe(true);
    expect(isImage(pdf)).toBe(false);
    expect(isImage({ content_type: 'image/png', thumbnail_url: null })).toBe(false);
  });
  it('labels a file by its extension', () => {
    expect(fileKind('report.final.PDF')).toBe('PDF');
    expect(fileKind('README')).toBe('FILE');
  });
});

describe('attachmentSummary / previewText', () => {
  it('sums up what a message without text carries', () => {
    expect(attachmentSummary([photo])).toBe('Photo');
    expect(attachmentSummary([photo, { ...photo, id: 'a3' }])).toBe('2 photos');
    expect(attachmentSummary([pdf])).toBe('report.pdf');
    expect(attachmentSummary([photo, pdf])).toBe('2 files');
    expect(attachmentSummary([])).toBe('');
  });
  it('prefers the text', () => {
    expect(previewText('look', [photo])).toBe('look');
    expect(previewText('', [photo])).toBe('Photo');
    expect(previewText('', undefined)).toBe('');
  });
});

describe('uploadErrorMessage (upload errors in words)', () => {
  const err = (status: number, code: string, message = 'x', retryAfterMs: number | null = null) => new ApiError(status, code, message, null, retryAfterMs);
  it('413: too large, with the limit the server named', () => {
    expect(uploadErrorMessage(err(413, 'payload_too_large', 'The request body is larger than 26214400 bytes.'))).toBe('Too large: files can be up to 25 MB.');
    expect(uploadErrorMessage(err(413, 'payload_too_large', 'Too big.'))).toBe('Too large to send.');
  });
  it("415: the server's own words for the refused kind", () => {
    expect(uploadErrorMessage(err(415, 'unsupported_attachment_type', 'HTML, SVG and XML files are not accepted.'))).toBe('HTML, SVG and XML files are not accepted.');
  });
  it('429: each bound in words', () => {
    expect(uploadErrorMessage(err(429, 'too_many_uploads'))).toBe('Too many uploads at once: try again when one has finished.');
    expect(uploadErrorMessage(err(429, 'too_many_unsent_uploads'))).toBe('Too many files waiting to be sent: send or remove some first.');
    expect(uploadErrorMessage(err(429, 'upload_quota_exceeded'))).toBe('You have reached the upload limit for the last 24 hours.');
    expect(uploadErrorMessage(err(429, 'rate_limited', 'x', 4_200))).toBe('Too many requests: try again in 5 s.');
  });
  it('422: the validation message (an empty file)', () => {
    expect(uploadErrorMessage(err(422, 'validation_failed', 'An empty file cannot be attached.'))).toBe('An empty file cannot be attached.');
  });
  it('404, 5xx and the network', () => {
    expect(uploadErrorMessage(err(404, 'not_found'))).toBe('You are no longer in this conversation.');
    expect(uploadErrorMessage(err(500, 'internal'))).toBe('The server could not store the file. Try again.');
    expect(uploadErrorMessage(new TypeError('Failed'))).toBe('Upload failed: the server cannot be reached.');
  });
  it('offers a retry only where one can help', () => {
    expect(isRetryableUpload(err(429, 'too_many_uploads'))).toBe(true);
    expect(isRetryableUpload(err(503, 'service_unavailable'))).toBe(true);
    expect(isRetryableUpload(new TypeError('Failed'))).toBe(true);
    expect(isRetryableUpload(err(415, 'unsupported_attachment_type'))).toBe(false);
    expect(isRetryableUpload(err(413, 'payload_too_large'))).toBe(false);
  });
  it("puts a send's unavailable attachment in words", () => {
    expect(attachmentRefusalMessage('attachment_unavailable')).toMatch(/no longer available/);
    expect(attachmentRefusalMessage('forbidden')).toBeNull();
  });
});
