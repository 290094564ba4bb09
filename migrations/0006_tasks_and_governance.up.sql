-- Task execution and governance: tasks with their artifacts and progress,
-- council verdicts, waivers, compliance violations, and an audit trail of
-- every change to tasks and waivers.

CREATE TABLE tasks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_task_id text NOT NULL,
    project_id bigint REFERENCES projects (id) ON DELETE CASCADE,
    description text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    execution_mode text NOT NULL DEFAULT 'supervised',
    risk_tier smallint NOT NULL DEFAULT 2,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    error text,
    metadata jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tasks_external_task_id_key UNIQUE (external_task_id),
    CONSTRAINT tasks_status_check CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    CONSTRAINT tasks_execution_mode_check CHECK (execution_mode IN ('autonomous', 'supervised', 'manual')),
    CONSTRAINT tasks_risk_tier_check CHECK (risk_tier BETWEEN 1 AND 3)
);
CREATE INDEX tasks_project_id ON tasks (project_id);
CREATE INDEX tasks_active ON tasks (status, created_at) WHERE status IN ('pending', 'running');
CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE task_artifacts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    artifact_type text NOT NULL,
    uri text NOT NULL,
    checksum text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_artifacts_task_id ON task_artifacts (task_id);

CREATE TABLE task_progress (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    phase text NOT NULL,
    percentage smallint NOT NULL,
    message text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_progress_percentage_check CHECK (percentage BETWEEN 0 AND 100)
);
CREATE INDEX task_progress_task_id_recorded_at ON task_progress (task_id, recorded_at DESC);

CREATE TABLE council_verdicts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE RESTRICT,
    judge_type text NOT NULL,
    verdict text NOT NULL,
    confidence numeric(4, 3) NOT NULL,
    reasoning text,
    evidence jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT council_verdicts_verdict_check CHECK (verdict IN ('approve', 'reject', 'escalate')),
    CONSTRAINT council_verdicts_confidence_range CHECK (confidence BETWEEN 0 AND 1)
);
CREATE INDEX council_verdicts_task_id ON council_verdicts (task_id);

CREATE TABLE waivers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL,
    reason text NOT NULL,
    description text,
    gates text[] NOT NULL,
    approved_by bigint REFERENCES users (id) ON DELETE RESTRICT,
    impact_level text NOT NULL,
    mitigation_plan text,
    expires_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT waivers_gates_not_empty CHECK (cardinality(gates) > 0),
    CONSTRAINT waivers_impact_level_check CHECK (impact_level IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT waivers_status_check CHECK (status IN ('active', 'expired', 'revoked'))
);
CREATE INDEX waivers_approved_by ON waivers (approved_by);
CREATE INDEX waivers_active ON waivers (expires_at) WHERE status = 'active';

CREATE TABLE compliance_violations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id bigint REFERENCES tasks (id) ON DELETE RESTRICT,
    rule text NOT NULL,
    severity text NOT NULL,
    description text NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    resolved boolean NOT NULL DEFAULT false,
    detected_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT compliance_violations_severity_check CHECK (severity IN ('low', 'medium', 'high', 'critical'))
);
CREATE INDEX compliance_violations_task_id ON compliance_violations (task_id);
CREATE INDEX compliance_violations_open ON compliance_violations (severity, detected_at) WHERE NOT resolved;

-- Every change to tasks and waivers, for the auditors.
CREATE TABLE governance_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,
    row_id bigint NOT NULL,
    operation text NOT NULL,
    old_row jsonb,
    new_row jsonb,
    changed_by text NOT NULL DEFAULT current_user,
    changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT governance_changes_operation_check CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE'))
);
CREATE INDEX governance_changes_row ON governance_changes (table_name, row_id, changed_at DESC);

CREATE FUNCTION record_governance_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO governance_changes (table_name, row_id, operation, old_row, new_row)
    VALUES (
        TG_TABLE_NAME,
        CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
        TG_OP,
        CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
        CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END
    );
    RETURN NULL;
END;
$$;
CREATE TRIGGER tasks_governance_audit AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION record_governance_change();
CREATE TRIGGER waivers_governance_audit AFTER INSERT OR UPDATE OR DELETE ON waivers
    FOR EACH ROW EXECUTE FUNCTION record_governance_change();
