DROP TABLE governance_changes;
DROP TABLE compliance_violations;
DROP TABLE waivers;
DROP TABLE council_verdicts;
DROP TABLE task_progress;
DROP TABLE task_artifacts;
DROP TABLE tasks;
DROP FUNCTION record_governance_change();
