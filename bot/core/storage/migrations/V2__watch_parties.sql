-- V2: watch parties, their RSVPs and notices, members' own preferences, party settings per
-- guild, and a small key-value table for the bot's own state (the registered command hash).

ALTER TABLE guild_settings ADD COLUMN party_channel_id TEXT;
-- NULL: the default party reminders (1 day, 1 hour, 10 minutes before, and at the start).
ALTER TABLE guild_settings ADD COLUMN party_offsets TEXT
    CHECK (party_offsets IS NULL OR (json_valid(party_offsets) AND json_type(party_offsets) = 'array'));
ALTER TABLE guild_settings ADD COLUMN party_cap INTEGER NOT NULL DEFAULT 5 CHECK (party_cap BETWEEN 1 AND 100);

CREATE TABLE parties (
    id                 INTEGER PRIMARY KEY,
    guild_id           TEXT NOT NULL REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    host_id            TEXT NOT NULL,
    title              TEXT NOT NULL,
    starts_at          INTEGER NOT NULL,
    timezone           TEXT NOT NULL,
    channel_id         TEXT,  -- the card and the reminders
    voice_channel_id   TEXT,  -- where people meet; NULL = "Netflix at home"
    offsets            TEXT NOT NULL CHECK (json_valid(offsets) AND json_type(offsets) = 'array'),
    state              TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'cancelled')),
    card_message_id    TEXT,
    scheduled_event_id TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX parties_upcoming ON parties (guild_id, starts_at) WHERE state = 'scheduled';
CREATE INDEX parties_by_host ON parties (guild_id, host_id, starts_at) WHERE state = 'scheduled';

CREATE TABLE rsvps (
    party_id   INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    choice     TEXT NOT NULL CHECK (choice IN ('going', 'maybe', 'no')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (party_id, user_id)
) WITHOUT ROWID;
CREATE INDEX rsvps_by_choice ON rsvps (party_id, choice, updated_at);

-- A member's own settings, across servers.
CREATE TABLE user_settings (
    user_id   TEXT PRIMARY KEY,
    timezone  TEXT,
    party_via TEXT NOT NULL DEFAULT 'channel' CHECK (party_via IN ('channel', 'dm'))
);

-- "The party moved" / "the party is cancelled": sent to attendees through the outbox, as
-- reminders of kind 'party_notice' whose event_id is the notice id.
CREATE TABLE party_notices (
    id            INTEGER PRIMARY KEY,
    party_id      INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('moved', 'cancelled')),
    old_starts_at INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
