-- V6 for PostgreSQL: as V6__delivery_leases.sql.

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN lease_until BIGINT;
