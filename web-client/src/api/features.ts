// The REST paths of the conversation features as the client calls them: the generated `paths` of
// ../openapi/openapi.json, plus what the spec does not describe yet, typed from issue 14's wire contract —
// `around_seq` on the history and `GET /api/search`; issue 15's `PATCH /api/users/me`. Each local addition gives way to the generated one as soon as
// the spec has it. The same openapi-fetch client (its bearer token and retry after a refresh) seen through them.
import type { Client } from 'openapi-fetch';
import type { Api } from './client';
import type { paths, SearchPage, User } from './types';

type Json<T> = { content: { 'application/json': T } };
type Failure = { default: Json<{ error: { code: string; message: string; field?: string | null } }> };

type History = paths['/api/conversations/{id}/messages'];
type HistoryGet = History['get'];
type HistoryQuery = NonNullable<HistoryGet['parameters']['query']>;
/** The history with `around_seq` (the page around one message), until the spec has it. */
type HistoryWithAround = 'around_seq' extends keyof HistoryQuery
  ? History
  : Omit<History, 'get'> & {
      get: Omit<HistoryGet, 'parameters'> & { parameters: Omit<HistoryGet['parameters'], 'query'> & { query?: HistoryQuery & { around_seq?: number } } };
    };

type LocalSearch = {
  parameters: { query?: never; header?: never; path?: never; cookie?: never };
  get: {
    parameters: { query: { q: string; conversation_id?: number; before?: string; limit?: number }; header?: never; path?: never; cookie?: never };
    requestBody?: never;
    responses: { 200: Json<SearchPage> } & Failure;
  };
};
type Search = paths extends Record<'/api/search', infer S> ? S : LocalSearch;

type Me = paths['/api/users/me'];
type LocalPatchMe = {
  parameters: { query?: never; header?: never; path?: never; cookie?: never };
  requestBody: Json<{ display_name: string }>;
  responses: { 200: Json<User> } & Failure;
};
/** The caller's profile with `PATCH` (a new display name), until the spec has it. */
type MeWithPatch = [NonNullable<Me['patch']>] extends [never] ? Omit<Me, 'patch'> & { patch: LocalPatchMe } : Me;

export type FeaturePaths = Omit<paths, '/api/conversations/{id}/messages' | '/api/users/me'> & {
  '/api/conversations/{id}/messages': HistoryWithAround;
  '/api/search': Search;
  '/api/users/me': MeWithPatch;
};

export type FeatureApi = Client<FeaturePaths>;

/** The REST client seen through the feature paths (one object at run time). */
export function featureApi(api: Api): FeatureApi {
  return api as unknown as FeatureApi;
}
