DROP TABLE agent_knowledge;
DROP TABLE trust_metrics;
DROP TABLE agent_decisions;
-- The vector extension, when 0003 created it, stays: other databases' objects
-- may use it, and dropping an extension is not this migration's decision.
