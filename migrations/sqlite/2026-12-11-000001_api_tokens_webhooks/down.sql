DROP TABLE webhooks;
DROP INDEX sessions_api_token_idx;
ALTER TABLE sessions DROP COLUMN scopes;
ALTER TABLE sessions DROP COLUMN api_token_hash;
