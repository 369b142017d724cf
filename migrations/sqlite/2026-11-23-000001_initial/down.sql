DROP TABLE messages;
DROP TABLE memberships;
DROP TABLE conversations;
DROP TABLE contacts;
DROP TABLE refresh_tokens;
DROP TABLE users;
