-- Keep in step with migrations/sqlite/0004_team_leads_and_escalation.sql.
ALTER TABLE users ADD COLUMN is_lead BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE handovers ADD COLUMN escalated_at TIMESTAMPTZ;
