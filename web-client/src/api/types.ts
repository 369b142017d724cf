// Named aliases for the generated OpenAPI schema types (src/api/schema.d.ts, from ../openapi/openapi.json).
// Nothing here is hand-written: every shape comes from the server's spec.
import type { components, paths } from './schema';

type Schemas = components['schemas'];

export type { paths };
export type User = Schemas['User'];
export type Message = Schemas['Message'];
export type Conversation = Schemas['Conversation'];
export type Member = Schemas['Member'];
export type Session = Schemas['Session'];
export type ErrorBody = Schemas['ErrorBody'];
export type SessionInfo = Schemas['SessionInfo'];
export type BlockList = Schemas['BlockList'];
export type ChangePasswordRequest = Schemas['ChangePasswordRequest'];
export type Attachment = Schemas['Attachment'];
export type MediaToken = Schemas['MediaToken'];
