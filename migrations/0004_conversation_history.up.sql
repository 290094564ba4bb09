-- Conversation history, partitioned by month on created_at. Partitions are
-- made by create_conversation_partitions(), which the retention schedule calls
-- ahead of time; a default partition catches anything outside them.

CREATE TABLE conversation_history (
    id bigint GENERATED ALWAYS AS IDENTITY,
    session_id bigint NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
    role text NOT NULL,
    content text NOT NULL,
    message_type text NOT NULL DEFAULT 'text',
    -- No foreign key: a key into a partitioned table must include created_at.
    parent_message_id bigint,
    tokens_used integer,
    model_used text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at),
    CONSTRAINT conversation_history_role_check CHECK (role IN ('user', 'agent', 'system')),
    CONSTRAINT conversation_history_tokens_check CHECK (tokens_used >= 0)
) PARTITION BY RANGE (created_at);
-- A session's recent messages.
CREATE INDEX conversation_history_session_id_created_at ON conversation_history (session_id, created_at DESC);
CREATE TABLE conversation_history_default PARTITION OF conversation_history DEFAULT;

CREATE FUNCTION create_conversation_partitions(months_ahead integer DEFAULT 3) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month_start date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    created integer := 0;
    name text;
BEGIN
    FOR i IN 0..months_ahead LOOP
        name := format('conversation_history_%s', to_char(month_start + make_interval(months => i), 'YYYY_MM'));
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF conversation_history FOR VALUES FROM (%L) TO (%L)',
                name,
                (month_start + make_interval(months => i))::timestamp AT TIME ZONE 'UTC',
                (month_start + make_interval(months => i + 1))::timestamp AT TIME ZONE 'UTC'
            );
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;
-- schemactl:ignore unparseable-statement COMMENT ON FUNCTION is PostgreSQL-only
COMMENT ON FUNCTION create_conversation_partitions(integer) IS 'Creates the monthly partitions of conversation_history from this month on';
SELECT create_conversation_partitions(2);
