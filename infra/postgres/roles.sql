-- PostgreSQL roles for a production Sportello (run once per cluster as a superuser).
--
--   sportello_owner  owns the schema; `sportello migrate` connects as this role.
--   sportello_app    the server's role: it owns no table, so the row-level security that the
--                    migrations enable and FORCE on every commune table applies to it. It cannot
--                    bypass RLS. The migrations grant it what it needs.
--
-- Replace the passwords (or use your platform's IAM authentication).
CREATE ROLE sportello_owner LOGIN PASSWORD 'change-me-owner';
CREATE ROLE sportello_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD 'change-me-app';
CREATE DATABASE sportello OWNER sportello_owner;
\connect sportello
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE sportello TO sportello_app;

-- Then:
--   SPORTELLO_DATABASE_URL=postgres://sportello_owner:…@db/sportello sportello migrate
--   SPORTELLO_DATABASE_URL=postgres://sportello_app:…@db/sportello   sportello serve
