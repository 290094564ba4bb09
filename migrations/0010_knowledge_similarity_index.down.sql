DROP INDEX IF EXISTS agent_knowledge_embedding_cosine;
