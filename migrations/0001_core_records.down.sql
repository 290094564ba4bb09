DROP TABLE aspice_compliance_records;
DROP TABLE projects;
DROP TABLE users;
DROP FUNCTION set_updated_at();
