DROP TABLE agent_audit_log;
DROP FUNCTION refuse_audit_change();
