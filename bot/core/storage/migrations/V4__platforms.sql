-- V4: one database for every platform. A guild is a Discord server or a Slack workspace (its
-- team id); its platform is fixed when its settings row is first written. Outbox rows copy it at
-- fan-out time, so one engine can hand each row to its own platform's transport.
-- Slack cannot restrict a command to a role, so the bot keeps its own list of moderators there
-- (workspace admins and owners are moderators anyway).

ALTER TABLE guild_settings ADD COLUMN platform TEXT NOT NULL DEFAULT 'discord'
    CHECK (platform IN ('discord', 'slack'));
ALTER TABLE outbox ADD COLUMN platform TEXT NOT NULL DEFAULT 'discord'
    CHECK (platform IN ('discord', 'slack'));

CREATE TABLE moderators (
    guild_id   TEXT NOT NULL REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    added_by   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
