-- Agents and their sessions. Both carry a version column for optimistic
-- locking: writers UPDATE … WHERE id = $1 AND version = $2 and bump it.

CREATE TABLE agents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    persona_type text NOT NULL,
    capabilities jsonb NOT NULL DEFAULT '[]',
    config jsonb NOT NULL DEFAULT '{}',
    is_active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agents_name_key UNIQUE (name),
    CONSTRAINT agents_persona_type_check
        CHECK (persona_type IN ('developer', 'qa', 'architect', 'reviewer', 'security', 'operations'))
);
CREATE INDEX agents_capabilities ON agents USING gin (capabilities);
CREATE TRIGGER agents_set_updated_at BEFORE UPDATE ON agents
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE agent_sessions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    trust_level text NOT NULL DEFAULT 'L0',
    context jsonb NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'active',
    version integer NOT NULL DEFAULT 1,
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agent_sessions_trust_level_check CHECK (trust_level IN ('L0', 'L1', 'L2', 'L3', 'L4')),
    CONSTRAINT agent_sessions_state_check CHECK (state IN ('active', 'paused', 'completed')),
    CONSTRAINT agent_sessions_ended_after_start CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX agent_sessions_agent_id_started_at ON agent_sessions (agent_id, started_at DESC);
CREATE INDEX agent_sessions_user_id ON agent_sessions (user_id);
CREATE INDEX agent_sessions_active ON agent_sessions (agent_id) WHERE state = 'active';
CREATE TRIGGER agent_sessions_set_updated_at BEFORE UPDATE ON agent_sessions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
