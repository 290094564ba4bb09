-- Core records of the agentic AI system: users, the projects they own, and
-- the ASPICE compliance record of each project's processes.

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
-- schemactl:ignore unparseable-statement sqlparser does not read COMMENT ON FUNCTION; PostgreSQL does
COMMENT ON FUNCTION set_updated_at() IS 'Trigger function: keeps updated_at current on every UPDATE';

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_format CHECK (position('@' IN email) > 1)
);
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE projects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    name text NOT NULL,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_owner_name_key UNIQUE (owner_id, name)
);
-- The unique (owner_id, name) index also serves lookups by owner_id.
CREATE TRIGGER projects_set_updated_at BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE aspice_compliance_records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    process_id text NOT NULL,
    status text NOT NULL DEFAULT 'not_assessed',
    last_updated timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT aspice_compliance_records_project_process_key UNIQUE (project_id, process_id),
    CONSTRAINT aspice_compliance_records_process_id_format CHECK (process_id ~ '^[A-Z]{3}\.[0-9]+$'),
    CONSTRAINT aspice_compliance_records_status_check
        CHECK (status IN ('not_assessed', 'not_achieved', 'partially_achieved', 'largely_achieved', 'fully_achieved'))
);
COMMENT ON COLUMN aspice_compliance_records.process_id IS 'ASPICE process id, e.g. SWE.1 or SUP.8';
