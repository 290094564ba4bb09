DROP TABLE agent_sessions;
DROP TABLE agents;
