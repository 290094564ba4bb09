DROP TABLE agent_knowledge;
DROP TABLE trust_metrics;
DROP TABLE agent_decisions;
-- The vector extension goes too when nothing else in this database uses it
-- (DROP EXTENSION without CASCADE refuses otherwise, and then it stays).
-- schemactl:ignore unparseable-statement DO blocks are PostgreSQL-only; checked by verify
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
        DROP EXTENSION vector;
    END IF;
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'the vector extension stays: other objects use it';
END
$$;
