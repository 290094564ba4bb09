-- Monitoring: raw metrics (aggregated into daily rows after 30 days), SLO
-- measurements and alerts.

CREATE TABLE system_metrics (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    value double precision NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    collected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX system_metrics_name_collected_at ON system_metrics (name, collected_at DESC);
CREATE INDEX system_metrics_labels ON system_metrics USING gin (labels jsonb_path_ops);

CREATE TABLE system_metrics_daily (
    name text NOT NULL,
    day date NOT NULL,
    samples bigint NOT NULL,
    min_value double precision NOT NULL,
    avg_value double precision NOT NULL,
    max_value double precision NOT NULL,
    PRIMARY KEY (name, day)
);

CREATE TABLE slo_measurements (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slo_name text NOT NULL,
    target numeric(6, 3) NOT NULL,
    actual numeric(6, 3) NOT NULL,
    compliance_percentage numeric(6, 3) NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    CONSTRAINT slo_measurements_compliance_range CHECK (compliance_percentage BETWEEN 0 AND 100),
    CONSTRAINT slo_measurements_period_order CHECK (period_end > period_start)
);
CREATE INDEX slo_measurements_slo_name_period ON slo_measurements (slo_name, period_start DESC);

CREATE TABLE alerts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_type text NOT NULL,
    severity text NOT NULL,
    title text NOT NULL,
    status text NOT NULL DEFAULT 'open',
    acknowledged_by bigint REFERENCES users (id) ON DELETE SET NULL,
    acknowledged_at timestamptz,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alerts_severity_check CHECK (severity IN ('info', 'warning', 'critical')),
    CONSTRAINT alerts_status_check CHECK (status IN ('open', 'acknowledged', 'resolved'))
);
CREATE INDEX alerts_acknowledged_by ON alerts (acknowledged_by);
CREATE INDEX alerts_open ON alerts (severity, created_at DESC) WHERE status <> 'resolved';
