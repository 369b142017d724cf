// Uploading one file: `POST /api/conversations/{id}/attachments?name=…` with the file's bytes as the body. Over
// XMLHttpRequest rather than fetch, because only XHR reports upload progress. The bearer token comes from the
// session (refreshed first when it is close to expiry), with one retry after a refresh when the server says 401.
import { ApiError, parseRetryAfter, type Auth } from './auth';
import type { Attachment } from './types';

export interface UploadOptions {
  /** Bytes sent so far, of `total`. */
  onProgress?: (loaded: number, total: number) => void;
  /** Aborting rejects with a DOMException named AbortError. */
  signal?: AbortSignal;
  /** For tests: what makes the request. */
  xhr?: () => XMLHttpRequest;
}

export function uploadPath(conversationId: number, name: string): string {
  return `/api/conversations/${conversationId}/attachments?name=${encodeURIComponent(name)}`;
}

export async function uploadAttachment(auth: Auth, conversationId: number, file: Blob, name: string, opts: UploadOptions = {}): Promise<Attachment> {
  const token = await auth.token();
  try {
    return await sendOnce(uploadPath(conversationId, name), file, token, opts);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401 || opts.signal?.aborted) throw e;
    const fresh = await auth.refresh();
    opts.onProgress?.(0, file.size);
    return sendOnce(uploadPath(conversationId, name), file, fresh, opts);
  }
}

function sendOnce(path: string, file: Blob, token: string, opts: UploadOptions): Promise<Attachment> {
  return new Promise<Attachment>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new DOMException('The upload was cancelled.', 'AbortError'));
      return;
    }
    const xhr = opts.xhr ? opts.xhr() : new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const done = () => opts.signal?.removeEventListener('abort', onAbort);
    xhr.open('POST', path);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      done();
      const parsed = parseJson(xhr.responseText);
      if (xhr.status === 201 || xhr.status === 200) {
        resolve(parsed as Attachment);
        return;
      }
      reject(apiErrorOf(xhr, parsed));
    };
    // A refusal the server sends before reading the whole body (413 by Content-Length) may reach the browser
    // as a broken connection: the same as the network failing.
    xhr.onerror = () => {
      done();
      reject(new TypeError('The upload failed: the server cannot be reached.'));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException('The upload was cancelled.', 'AbortError'));
    };
    opts.signal?.addEventListener('abort', onAbort);
    xhr.send(file);
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function apiErrorOf(xhr: XMLHttpRequest, parsed: unknown): ApiError {
  const retryAfterMs = parseRetryAfter(xhr.getResponseHeader('Retry-After'));
  const err = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  if (err && typeof err.code === 'string') {
    return new ApiError(xhr.status, err.code, typeof err.message === 'string' ? err.message : err.code, typeof err.field === 'string' ? err.field : null, retryAfterMs);
  }
  return new ApiError(xhr.status, 'http_' + xhr.status, `The server answered ${xhr.status} ${xhr.statusText}`.trim(), null, retryAfterMs);
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}
