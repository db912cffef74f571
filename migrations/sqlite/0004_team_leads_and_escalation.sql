-- A team user may be the team's lead, who is told when a handover stays unacknowledged
-- past its due time; a handover remembers when it was escalated.
ALTER TABLE users ADD COLUMN is_lead BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE handovers ADD COLUMN escalated_at TEXT;
