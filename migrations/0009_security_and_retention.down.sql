-- schemactl:ignore unparseable-statement DO blocks are PostgreSQL-only; checked by verify
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.unschedule('agentic-retention');
    END IF;
END
$$;
DROP FUNCTION run_retention();
DROP FUNCTION aggregate_system_metrics(interval);
DROP FUNCTION purge_agent_audit_log(interval);
DROP FUNCTION purge_agent_decisions(interval);
DROP FUNCTION archive_conversation_history(interval);
DROP TABLE conversation_history_archive;
DROP POLICY conversation_history_reporting ON conversation_history;
DROP POLICY agent_decisions_reporting ON agent_decisions;
DROP POLICY agent_sessions_reporting ON agent_sessions;
DROP POLICY conversation_history_own ON conversation_history;
DROP POLICY agent_decisions_own ON agent_decisions;
DROP POLICY agent_sessions_own ON agent_sessions;
ALTER TABLE conversation_history DISABLE ROW LEVEL SECURITY;
ALTER TABLE agent_decisions DISABLE ROW LEVEL SECURITY;
ALTER TABLE agent_sessions DISABLE ROW LEVEL SECURITY;
REVOKE SELECT ON agent_audit_log, governance_changes FROM agentic_auditor;
REVOKE SELECT ON users, projects, aspice_compliance_records, agents, agent_sessions, agent_decisions, trust_metrics, agent_knowledge, conversation_history, tasks, task_artifacts, task_progress, council_verdicts, waivers, compliance_violations, provenance_records, git_commits, system_metrics, system_metrics_daily, slo_measurements, alerts, agent_audit_log, governance_changes FROM agentic_reporting;
REVOKE SELECT, INSERT ON agent_audit_log, governance_changes FROM agentic_app;
REVOKE SELECT, INSERT, UPDATE, DELETE ON users, projects, aspice_compliance_records, agents, agent_sessions, agent_decisions, trust_metrics, agent_knowledge, conversation_history, tasks, task_artifacts, task_progress, council_verdicts, waivers, compliance_violations, provenance_records, git_commits, system_metrics, system_metrics_daily, slo_measurements, alerts FROM agentic_app;
-- The roles stay: they are cluster-wide and other databases may use them.
