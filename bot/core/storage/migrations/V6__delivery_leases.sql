-- V6: delivery leases, so that several processes can deliver from one database. A claimed
-- outbox row records who claimed it (the process's name and run, "name#run") and until when the
-- claim holds (unix seconds). The claimer renews its leases while it sends; another process takes
-- over a row whose lease ran out, and a restarted process its own rows from its previous run.
-- Rows claimed before this version have neither: any process may take them over at once.

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
