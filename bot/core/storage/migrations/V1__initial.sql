-- V1: guild settings, release subscriptions, reminders and the delivery outbox.
-- IDs are TEXT so Discord snowflakes and Slack IDs both fit; times are Unix seconds (UTC).
-- Child tables cascade from guild_settings, so forgetting a guild is one DELETE.

CREATE TABLE guild_settings (
    guild_id        TEXT PRIMARY KEY,
    channel_id      TEXT,
    ping_role_id    TEXT,
    -- JSON array of offsets in seconds before the release, largest first: [604800,86400,3600,0].
    -- JSON rather than text so reminders can be fanned out with json_each() in SQL.
    release_offsets TEXT NOT NULL CHECK (json_valid(release_offsets) AND json_type(release_offsets) = 'array'),
    timezone        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE subscriptions (
    guild_id   TEXT NOT NULL REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    via        TEXT NOT NULL CHECK (via IN ('channel', 'dm')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX subscriptions_by_via ON subscriptions (guild_id, via);

-- The release time of each film, so settings changes can reschedule reminders on their own.
CREATE TABLE releases (
    film_id    TEXT PRIMARY KEY,
    release_at INTEGER NOT NULL
);

-- One row per (guild, event, offset). kind 'release' has the film id as event_id.
CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY,
    guild_id   TEXT NOT NULL REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    offset_s   INTEGER NOT NULL CHECK (offset_s >= 0),
    due_at     INTEGER NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'fired', 'skipped', 'cancelled')),
    note       TEXT,     -- why it was skipped or cancelled
    settled_at INTEGER,  -- when it left 'pending'
    UNIQUE (guild_id, kind, event_id, offset_s)
);
CREATE INDEX reminders_pending_due ON reminders (due_at) WHERE state = 'pending';

-- One row per channel post or DM to send.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    guild_id     TEXT NOT NULL REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    reminder_id  INTEGER NOT NULL REFERENCES reminders (id) ON DELETE CASCADE,
    target       TEXT NOT NULL CHECK (target IN ('channel', 'dm')),
    target_id    TEXT NOT NULL,  -- channel id or user id
    -- Random, fixed when the row is written: a re-send after a crash reuses it, so the platform
    -- can drop the duplicate. 16 hex digits leave room for a ".N" part suffix within 25 chars.
    nonce        TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(8)))),
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   INTEGER NOT NULL,
    late         INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    error_kind   TEXT,
    error_detail TEXT,
    message_id   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (reminder_id, target, target_id)
);
CREATE INDEX outbox_pending_due ON outbox (not_before) WHERE state = 'pending';
CREATE INDEX outbox_sending ON outbox (id) WHERE state = 'sending';
CREATE INDEX outbox_by_guild_target ON outbox (guild_id, target, target_id);
CREATE INDEX outbox_failed_by_guild ON outbox (guild_id, updated_at) WHERE state = 'failed';
