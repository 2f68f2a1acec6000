-- V3: giving the ping role to the members who opted in (in the channel) before a moderator set
-- it. A background task goes through them one at a time in user_id order and records how far it
-- got, so a restart continues where it stopped. One row per guild: setting the role again
-- starts over; clearing it, or resetting the settings, deletes the row.

CREATE TABLE role_backfills (
    id           INTEGER PRIMARY KEY,
    guild_id     TEXT NOT NULL UNIQUE REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    role_id      TEXT NOT NULL,
    last_user_id TEXT,  -- the last member handled; NULL before the first
    failed       INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),  -- members the platform would not give it to
    state        TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'stopped')),
    note         TEXT,  -- why it stopped
    started_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX role_backfills_running ON role_backfills (guild_id) WHERE state = 'running';
