// The typed REST client: openapi-fetch over the generated `paths`, with the bearer token added to every call
// and one silent retry after a refresh when the server answers 401.
import createClient, { type Middleware } from 'openapi-fetch';
import { Auth, errorFrom } from './auth';
import type { paths } from './types';

const PUBLIC = new Set(['/api/auth/register', '/api/auth/login', '/api/auth/refresh', '/api/auth/web/register', '/api/auth/web/login', '/api/auth/web/refresh']);

export type Api = ReturnType<typeof createApi>;

export function createApi(auth: Auth, baseUrl: string = typeof location === 'undefined' ? 'http://localhost' : location.origin) {
  const client = createClient<paths>({ baseUrl });
  const retries = new Map<string, Request>();

  const middleware: Middleware = {
    async onRequest({ request, schemaPath, id }) {
      if (PUBLIC.has(schemaPath) || !auth.current) return request;
      request.headers.set('Authorization', `Bearer ${await auth.token()}`);
      retries.set(id, request.clone());
      return request;
    },
    async onResponse({ response, id }) {
      const retry = retries.get(id);
      retries.delete(id);
      if (response.status !== 401 || !retry) return response;
      let token: string;
      try {
        token = await auth.refresh();
      } catch {
        return response;
      }
      retry.headers.set('Authorization', `Bearer ${token}`);
      return fetch(retry);
    },
    onError({ id }) {
      retries.delete(id);
    },
  };
  client.use(middleware);
  return client;
}

/** The data of an openapi-fetch result, or a thrown ApiError built from the server's error body. */
export async function ok<T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await result;
  if (!response.ok) throw await errorFrom(response, error);
  return data as T;
}
