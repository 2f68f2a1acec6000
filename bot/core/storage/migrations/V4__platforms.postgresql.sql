-- V4 for PostgreSQL: as V4__platforms.sql.

ALTER TABLE guild_settings ADD COLUMN platform TEXT NOT NULL DEFAULT 'discord'
    CHECK (platform IN ('discord', 'slack'));
ALTER TABLE outbox ADD COLUMN platform TEXT NOT NULL DEFAULT 'discord'
    CHECK (platform IN ('discord', 'slack'));

CREATE TABLE moderators (
    guild_id   TEXT NOT NULL REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    added_by   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
