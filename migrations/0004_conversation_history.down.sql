DROP FUNCTION create_conversation_partitions(integer);
DROP TABLE conversation_history;
