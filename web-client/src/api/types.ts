// Named aliases for the generated OpenAPI schema types (src/api/schema.d.ts, from ../openapi/openapi.json).
// Every shape comes from the server's spec. Issue 14's additions, and issue 15's on `User`, (replies, reactions, mentions, notification
// levels, pins, search) are declared here from its wire contract only until the spec carries them: `Spec<K, L>`
// is the generated schema K when the spec has it, else the local declaration L, and `Plus<G, L>` adds to a
// generated shape only the fields it does not have yet — so the generated types win as soon as they exist.
import type { components, paths } from './schema';

type Schemas = components['schemas'];
type Spec<K extends string, L> = Schemas extends Record<K, infer R> ? R : L;
type Plus<G, L> = G & Omit<L, keyof G>;

export type { paths };
/** `last_seen_at` (issue 15): when their last socket closed; present under the same rule as `online`. */
export type User = Plus<Schemas['User'], { last_seen_at?: string | null }>;
export type Member = Schemas['Member'];
export type Session = Schemas['Session'];
export type ErrorBody = Schemas['ErrorBody'];
export type SessionInfo = Schemas['SessionInfo'];
export type BlockList = Schemas['BlockList'];
export type ChangePasswordRequest = Schemas['ChangePasswordRequest'];
export type Attachment = Schemas['Attachment'];
export type MediaToken = Schemas['MediaToken'];
export type Role = Schemas['Role'];
export type ApiToken = Schemas['ApiToken'];
export type ApiTokenScope = Schemas['ApiTokenScope'];
export type CreateApiTokenRequest = Schemas['CreateApiTokenRequest'];
export type CreatedApiToken = Schemas['CreatedApiToken'];

/** The original a reply answers, kept current by the server (excerpt "" and `deleted` once it is deleted). */
export type ReplyPreview = Spec<'ReplyPreview', { seq: number; sender_id: number; sender_name: string; excerpt: string; deleted: boolean }>;
/** One emoji on a message: who reacted with it, in order of first use. */
export type Reaction = Spec<'Reaction', { emoji: string; count: number; user_ids: number[] }>;
export type MessageReactions = Spec<'MessageReactions', { conversation_id: number; seq: number; reactions: Reaction[] }>;
export type NotificationLevel = 'all' | 'mentions' | 'nothing';
export type NotificationSettings = Spec<'NotificationSettings', { level: NotificationLevel; until?: string | null }>;

// Optional here: a server without issue 14 leaves them out, and the client reads them with a default.
export type Message = Plus<Schemas['Message'], { reply_to?: ReplyPreview | null; mentions?: number[]; reactions?: Reaction[] }>;
/** `mention_count` and `notifications` are the caller's own; `conversation` frames leave them out (keep what is held). */
export type Conversation = Plus<Omit<Schemas['Conversation'], 'last_message'> & { last_message?: Message | null }, { mention_count?: number; notifications?: NotificationSettings }>;
export type Pin = Spec<'Pin', { message: Message; pinned_by: number; pinned_at: string }>;
export type PinList = Spec<'PinList', { pins: Pin[] }>;
export type SnippetPart = Spec<'SnippetPart', { text: string; highlight: boolean }>;
export type SearchHit = Spec<'SearchHit', { message: Message; snippet: SnippetPart[] }>;
export type SearchPage = Spec<'SearchPage', { results: SearchHit[]; next_before?: string | null }>;
export type MessagePage = Plus<Schemas['MessagePage'], { has_newer?: boolean }>;
export type ReadState = Plus<Schemas['ReadState'], { mention_count?: number }>;
