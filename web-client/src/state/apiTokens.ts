// The account's API tokens over REST: listed, created (the secret comes back once) and revoked. Tokens need a
// login session, which is what the web client holds.
import { ApiError } from '../api/auth';
import { ok, type Api } from '../api/client';
import type { ApiToken, CreateApiTokenRequest, CreatedApiToken } from '../api/types';

export class ApiTokens {
  constructor(private readonly api: Api) {}

  async list(): Promise<ApiToken[]> {
    return (await ok(this.api.GET('/api/tokens'))).tokens;
  }

  create(request: CreateApiTokenRequest): Promise<CreatedApiToken> {
    return ok(this.api.POST('/api/tokens', { body: request }));
  }

  /** Revokes one; one revoked already (404) is what was asked. */
  async revoke(id: number): Promise<void> {
    try {
      await ok(this.api.DELETE('/api/tokens/{id}', { params: { path: { id } } }));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
  }
}
