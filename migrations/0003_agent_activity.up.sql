-- What agents decide and learn: decisions, trust metrics, and knowledge with
-- an embedding for retrieval.
--
-- The embedding uses pgvector's vector(1536) when the extension is available
-- on the server; otherwise it falls back to real[] with a length check (see
-- migrations/README.md), so that the migration applies everywhere.

CREATE TABLE agent_decisions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
    decision_type text NOT NULL,
    input_context jsonb NOT NULL DEFAULT '{}',
    rationale text,
    action_taken text NOT NULL,
    confidence numeric(4, 3) NOT NULL,
    user_feedback text,
    execution_time_ms integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agent_decisions_confidence_range CHECK (confidence BETWEEN 0 AND 1),
    CONSTRAINT agent_decisions_feedback_check CHECK (user_feedback IN ('approved', 'rejected', 'modified')),
    CONSTRAINT agent_decisions_execution_time_check CHECK (execution_time_ms >= 0)
);
CREATE INDEX agent_decisions_session_id_created_at ON agent_decisions (session_id, created_at DESC);
CREATE INDEX agent_decisions_decision_type ON agent_decisions (decision_type, created_at DESC);
CREATE INDEX agent_decisions_input_context ON agent_decisions USING gin (input_context jsonb_path_ops);

CREATE TABLE trust_metrics (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
    metric_type text NOT NULL,
    value numeric(6, 3) NOT NULL,
    measurement_context jsonb NOT NULL DEFAULT '{}',
    measured_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trust_metrics_metric_type_check CHECK (metric_type IN ('accuracy', 'autonomy', 'complexity')),
    -- accuracy and autonomy are ratios; complexity is a 1-10 score.
    CONSTRAINT trust_metrics_value_range CHECK (
        (metric_type IN ('accuracy', 'autonomy') AND value BETWEEN 0 AND 1)
        OR (metric_type = 'complexity' AND value BETWEEN 1 AND 10)
    )
);
CREATE INDEX trust_metrics_session_id_measured_at ON trust_metrics (session_id, measured_at DESC);

CREATE TABLE agent_knowledge (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    knowledge_type text NOT NULL,
    domain text NOT NULL,
    content jsonb NOT NULL,
    usage_count integer NOT NULL DEFAULT 0,
    success_rate numeric(4, 3),
    last_used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agent_knowledge_usage_count_check CHECK (usage_count >= 0),
    CONSTRAINT agent_knowledge_success_rate_range CHECK (success_rate BETWEEN 0 AND 1)
);
CREATE INDEX agent_knowledge_agent_id_domain ON agent_knowledge (agent_id, domain);
CREATE INDEX agent_knowledge_content ON agent_knowledge USING gin (content jsonb_path_ops);

-- schemactl:ignore unparseable-statement DO blocks are PostgreSQL-only; checked by verify
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        CREATE EXTENSION IF NOT EXISTS vector;
        ALTER TABLE agent_knowledge ADD COLUMN embedding vector(1536);
    ELSE
        RAISE NOTICE 'pgvector is not installed: agent_knowledge.embedding is real[] (see migrations/README.md)';
        ALTER TABLE agent_knowledge ADD COLUMN embedding real[]
            CONSTRAINT agent_knowledge_embedding_dimensions CHECK (array_length(embedding, 1) = 1536);
    END IF;
END
$$;
COMMENT ON COLUMN agent_knowledge.content IS 'The knowledge itself; queried with @> (GIN index)';
