-- V5: English and Korean. A guild's language is what its moderators chose (NULL: not chosen) and
-- what its platform reports as its default (Discord's guild_locale, a Slack workspace's locale);
-- a member's is what they chose with `language` (NULL: automatic) and what their client showed
-- last, so a DM sent while they are away is in the language they read.

ALTER TABLE guild_settings ADD COLUMN language TEXT CHECK (language IN ('en', 'ko'));
ALTER TABLE guild_settings ADD COLUMN platform_language TEXT CHECK (platform_language IN ('en', 'ko'));
ALTER TABLE user_settings ADD COLUMN language TEXT CHECK (language IN ('en', 'ko'));
ALTER TABLE user_settings ADD COLUMN seen_language TEXT CHECK (seen_language IN ('en', 'ko'));
