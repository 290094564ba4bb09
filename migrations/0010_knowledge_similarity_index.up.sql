-- Nearest-neighbour search over agent knowledge: an HNSW index for cosine
-- distance (`ORDER BY embedding <=> $1`), when the embedding is pgvector's
-- vector(1536). With the real[] fallback of 0003 (no pgvector on the server)
-- there is nothing to index: see migrations/README.md. The table is new and
-- small when this runs; on a large one, build the index CONCURRENTLY by hand
-- first (IF NOT EXISTS then skips it).

-- schemactl:ignore unparseable-statement DO blocks are PostgreSQL-only; checked by verify
DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = 'agent_knowledge'::regclass AND attname = 'embedding'
          AND format_type(atttypid, atttypmod) = 'vector(1536)'
    ) THEN
        CREATE INDEX IF NOT EXISTS agent_knowledge_embedding_cosine
            ON agent_knowledge USING hnsw (embedding vector_cosine_ops);
    END IF;
END
$$;
