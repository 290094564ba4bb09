-- Provenance of decisions, and the git commits that carry them. Provenance
-- is history: what references it RESTRICTs deletes.

CREATE TABLE provenance_records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    decision_id bigint REFERENCES agent_decisions (id) ON DELETE RESTRICT,
    decision_type text NOT NULL,
    decision_data jsonb NOT NULL,
    consensus_score numeric(4, 3),
    judge_verdicts jsonb NOT NULL DEFAULT '[]',
    compliance jsonb NOT NULL DEFAULT '{}',
    claim_verification jsonb NOT NULL DEFAULT '{}',
    git_commit_hash text,
    git_trailer text,
    signature text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    metadata jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT provenance_records_consensus_range CHECK (consensus_score BETWEEN 0 AND 1),
    CONSTRAINT provenance_records_commit_hash_format CHECK (git_commit_hash ~ '^[0-9a-f]{40}([0-9a-f]{24})?$')
);
CREATE INDEX provenance_records_decision_id ON provenance_records (decision_id);
CREATE INDEX provenance_records_decision_type ON provenance_records (decision_type, recorded_at DESC);
CREATE INDEX provenance_records_git_commit_hash ON provenance_records (git_commit_hash);

CREATE TABLE git_commits (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provenance_id bigint NOT NULL REFERENCES provenance_records (id) ON DELETE RESTRICT,
    commit_hash text NOT NULL,
    repository text NOT NULL,
    author text NOT NULL,
    message text NOT NULL,
    committed_at timestamptz NOT NULL,
    CONSTRAINT git_commits_repository_commit_key UNIQUE (repository, commit_hash)
);
CREATE INDEX git_commits_provenance_id ON git_commits (provenance_id);
