-- The agent audit log: append-only. Its foreign keys RESTRICT, so that the
-- agents, sessions and users it speaks of cannot be deleted from under it.

CREATE TABLE agent_audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id bigint NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
    session_id bigint REFERENCES agent_sessions (id) ON DELETE RESTRICT,
    user_id bigint REFERENCES users (id) ON DELETE RESTRICT,
    action_type text NOT NULL,
    action_details jsonb NOT NULL DEFAULT '{}',
    risk_level text NOT NULL DEFAULT 'low',
    occurred_at timestamptz NOT NULL DEFAULT now(),
    ip_address inet,
    user_agent text,
    CONSTRAINT agent_audit_log_risk_level_check CHECK (risk_level IN ('low', 'medium', 'high', 'critical'))
);
-- An agent's history by time; the sessions' and users' keys.
CREATE INDEX agent_audit_log_agent_id_occurred_at ON agent_audit_log (agent_id, occurred_at DESC);
CREATE INDEX agent_audit_log_session_id ON agent_audit_log (session_id);
CREATE INDEX agent_audit_log_user_id ON agent_audit_log (user_id);
-- The risk filter of the security review looks only at high and critical rows.
CREATE INDEX agent_audit_log_high_risk ON agent_audit_log (risk_level, occurred_at DESC) WHERE risk_level IN ('high', 'critical');

-- Updates and deletes are refused, except by the retention job, which sets
-- app.retention = 'on' for its own transaction (SET LOCAL).
CREATE FUNCTION refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('app.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER agent_audit_log_append_only BEFORE UPDATE OR DELETE ON agent_audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
