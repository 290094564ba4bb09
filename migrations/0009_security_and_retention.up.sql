-- Security and retention.
--
-- Roles (cluster-wide, created when missing; the migrating user needs
-- CREATEROLE, or create them beforehand): agentic_app reads and writes,
-- agentic_reporting only reads, agentic_auditor reads the audit trails.
-- Row-level security keeps each user's sessions, decisions and messages to
-- that user: the application sets app.user_id for its transaction.
--
-- Retention runs as run_retention(): conversation history is archived after
-- 90 days, decisions deleted after 6 months (unless provenance references
-- them), the audit log after 3 years, raw metrics aggregated into daily rows
-- after 30 days. pg_cron schedules it daily where the extension is installed.

-- schemactl:ignore unparseable-statement DO blocks are PostgreSQL-only; checked by verify
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['agentic_app', 'agentic_reporting', 'agentic_auditor'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by a concurrent migration of another database
            END;
        END IF;
    END LOOP;
END
$$;

-- Named tables only: schemactl's history tables are not the application's.
GRANT SELECT, INSERT, UPDATE, DELETE ON users, projects, aspice_compliance_records, agents, agent_sessions, agent_decisions, trust_metrics, agent_knowledge, conversation_history, tasks, task_artifacts, task_progress, council_verdicts, waivers, compliance_violations, provenance_records, git_commits, system_metrics, system_metrics_daily, slo_measurements, alerts TO agentic_app;
-- The audit trails are append-only for the application.
GRANT SELECT, INSERT ON agent_audit_log, governance_changes TO agentic_app;
GRANT SELECT ON users, projects, aspice_compliance_records, agents, agent_sessions, agent_decisions, trust_metrics, agent_knowledge, conversation_history, tasks, task_artifacts, task_progress, council_verdicts, waivers, compliance_violations, provenance_records, git_commits, system_metrics, system_metrics_daily, slo_measurements, alerts, agent_audit_log, governance_changes TO agentic_reporting;
GRANT SELECT ON agent_audit_log, governance_changes TO agentic_auditor;

ALTER TABLE agent_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_decisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_history ENABLE ROW LEVEL SECURITY;

CREATE POLICY agent_sessions_own ON agent_sessions TO agentic_app
    USING (user_id = current_setting('app.user_id', true)::bigint)
    WITH CHECK (user_id = current_setting('app.user_id', true)::bigint);
CREATE POLICY agent_decisions_own ON agent_decisions TO agentic_app
    USING (session_id IN (SELECT id FROM agent_sessions))
    WITH CHECK (session_id IN (SELECT id FROM agent_sessions));
CREATE POLICY conversation_history_own ON conversation_history TO agentic_app
    USING (session_id IN (SELECT id FROM agent_sessions))
    WITH CHECK (session_id IN (SELECT id FROM agent_sessions));
CREATE POLICY agent_sessions_reporting ON agent_sessions FOR SELECT TO agentic_reporting USING (true);
CREATE POLICY agent_decisions_reporting ON agent_decisions FOR SELECT TO agentic_reporting USING (true);
CREATE POLICY conversation_history_reporting ON conversation_history FOR SELECT TO agentic_reporting USING (true);

CREATE TABLE conversation_history_archive (
    id bigint NOT NULL,
    session_id bigint NOT NULL,
    role text NOT NULL,
    content text NOT NULL,
    message_type text NOT NULL,
    parent_message_id bigint,
    tokens_used integer,
    model_used text,
    created_at timestamptz NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at)
);
CREATE INDEX conversation_history_archive_session_id ON conversation_history_archive (session_id, created_at DESC);
GRANT SELECT ON conversation_history_archive TO agentic_reporting, agentic_auditor;

CREATE FUNCTION archive_conversation_history(retain interval DEFAULT '90 days') RETURNS bigint
LANGUAGE sql AS $$
    WITH moved AS (
        DELETE FROM conversation_history WHERE created_at < now() - retain
        RETURNING id, session_id, role, content, message_type, parent_message_id, tokens_used, model_used, created_at
    ), archived AS (
        INSERT INTO conversation_history_archive (id, session_id, role, content, message_type, parent_message_id, tokens_used, model_used, created_at)
        SELECT * FROM moved
        RETURNING 1
    )
    SELECT count(*) FROM archived;
$$;

CREATE FUNCTION purge_agent_decisions(retain interval DEFAULT '6 months') RETURNS bigint
LANGUAGE sql AS $$
    WITH purged AS (
        DELETE FROM agent_decisions d
        WHERE d.created_at < now() - retain
          AND NOT EXISTS (SELECT 1 FROM provenance_records p WHERE p.decision_id = d.id)
        RETURNING 1
    )
    SELECT count(*) FROM purged;
$$;

CREATE FUNCTION purge_agent_audit_log(retain interval DEFAULT '3 years') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    purged bigint;
BEGIN
    -- The append-only trigger lets deletes through for this transaction only.
    PERFORM set_config('app.retention', 'on', true);
    DELETE FROM agent_audit_log WHERE occurred_at < now() - retain;
    GET DIAGNOSTICS purged = ROW_COUNT;
    PERFORM set_config('app.retention', 'off', true);
    RETURN purged;
END;
$$;

CREATE FUNCTION aggregate_system_metrics(retain interval DEFAULT '30 days') RETURNS bigint
LANGUAGE sql AS $$
    WITH old AS (
        DELETE FROM system_metrics WHERE collected_at < now() - retain
        RETURNING name, value, collected_at
    ), daily AS (
        INSERT INTO system_metrics_daily AS d (name, day, samples, min_value, avg_value, max_value)
        SELECT name, (collected_at AT TIME ZONE 'UTC')::date, count(*), min(value), avg(value), max(value)
        FROM old GROUP BY 1, 2
        ON CONFLICT (name, day) DO UPDATE SET
            avg_value = (d.avg_value * d.samples + excluded.avg_value * excluded.samples) / (d.samples + excluded.samples),
            samples = d.samples + excluded.samples,
            min_value = least(d.min_value, excluded.min_value),
            max_value = greatest(d.max_value, excluded.max_value)
        RETURNING 1
    )
    SELECT count(*) FROM old;
$$;

CREATE FUNCTION run_retention() RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    RETURN jsonb_build_object(
        'partitions_created', create_conversation_partitions(2),
        'messages_archived', archive_conversation_history(),
        'decisions_purged', purge_agent_decisions(),
        'audit_rows_purged', purge_agent_audit_log(),
        'metric_rows_aggregated', aggregate_system_metrics()
    );
END;
$$;

-- schemactl:ignore unparseable-statement DO blocks are PostgreSQL-only; checked by verify
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.schedule('agentic-retention', '17 3 * * *', 'SELECT run_retention()');
    ELSE
        RAISE NOTICE 'pg_cron is not installed: schedule SELECT run_retention() daily by other means';
    END IF;
END
$$;
