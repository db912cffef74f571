-- PostgreSQL setup for Päivystys: the county's database and login role, and a SEPARATE role and
-- schema (optionally a separate database) for the shelter's register.
--
-- Run it with ops/postgres-setup.sh (which passes the passwords without putting them on a
-- command line), as a superuser, e.g. `sudo -u postgres ops/postgres-setup.sh`. It is safe to
-- run again: existing roles, databases and schemas are kept, and the passwords are reset to the
-- ones given. It needs psql 10 or later (\if, \gexec). The server creates its own tables: it
-- runs its migrations at every start (`paivystys migrate` runs them alone).
--
-- Variables (psql -v NAME=VALUE; the wrapper sets them from the environment):
--   db              the county's database                        default paivystys
--   app_role        the server's login role for it               default paivystys
--   app_schema      the schema the server's tables live in       default paivystys
--   shelter_role    the shelter register's login role            default paivystys_shelter
--   shelter_schema  the shelter register's schema                default shelter
--   shelter_db      database of the shelter register             default: the same as db
--   app_password, shelter_password   given on standard input by the wrapper; empty = set no
--                   password (e.g. peer authentication over the Unix socket)
--
-- Why two roles: the shelter register's controller is THL, not the county. The county's role
-- gets no privilege at all on the register's schema (nor, with shelter_db, even CONNECT on its
-- database), so nothing that connects as the county (the server's county side, a reporting
-- tool, a county administrator's login) can read or write it. Superusers still can: for a
-- separation from the county's database administrators too, THL runs the register's database
-- on a cluster of its own and gives the server only PAIVYSTYS_SHELTER_DATABASE_URL.
--
-- The resulting URLs (put them in /etc/paivystys/env, mode 0600; percent-encode special
-- characters in passwords):
--   PAIVYSTYS_DATABASE_URL=postgres://paivystys:APP_PASSWORD@127.0.0.1:5432/paivystys
--   PAIVYSTYS_SHELTER_DATABASE_URL=postgres://paivystys_shelter:SHELTER_PASSWORD@127.0.0.1:5432/paivystys?options=-csearch_path%3Dshelter
-- or, with shelter_db=paivystys_shelter (a database of its own):
--   PAIVYSTYS_SHELTER_DATABASE_URL=postgres://paivystys_shelter:SHELTER_PASSWORD@127.0.0.1:5432/paivystys_shelter?options=-csearch_path%3Dshelter
-- Each role also gets its schema as its default search_path below, so the `options` part is
-- a second guard, not a requirement. Over the local Unix socket instead of TCP:
--   postgres://paivystys@localhost/paivystys?host=/var/run/postgresql
--
-- pg_hba.conf must let the two roles in (this script cannot), e.g.
--   host  paivystys  paivystys          127.0.0.1/32  scram-sha-256
--   host  paivystys  paivystys_shelter  127.0.0.1/32  scram-sha-256
-- For a database on another host, use TLS: add ?sslmode=verify-full to the URLs (and
-- sslrootcert=/path/ca.pem for a private CA; see docs/OPERATIONS.md). `paivystys config check`
-- refuses a remote database without it.

\set ON_ERROR_STOP on
\set QUIET on

-- Defaults for the variables not given.
\if :{?db}
\else
  \set db paivystys
\endif
\if :{?app_role}
\else
  \set app_role paivystys
\endif
\if :{?app_schema}
\else
  \set app_schema paivystys
\endif
\if :{?shelter_role}
\else
  \set shelter_role paivystys_shelter
\endif
\if :{?shelter_schema}
\else
  \set shelter_schema shelter
\endif
\if :{?shelter_db}
\else
  \set shelter_db :db
\endif
\if :{?app_password}
\else
  \set app_password ''
\endif
\if :{?shelter_password}
\else
  \set shelter_password ''
\endif

SELECT rolsuper AS is_superuser FROM pg_roles WHERE rolname = current_user
\gset

-- Keep the passwords out of the server's log: the ALTER ROLE … PASSWORD statements below must
-- not be logged, not even on error. Only a superuser may change these for its session; on a
-- managed service without one, check that log_statement is not 'ddl' or 'all' first.
\if :is_superuser
  SET log_statement = 'none';
  SET log_min_error_statement = 'panic';
  SET log_min_duration_statement = -1;
\else
  \echo 'Not a superuser: cannot keep ALTER ROLE ... PASSWORD out of the server log; see log_statement.'
\endif
-- Store passwords as SCRAM verifiers, never MD5.
SET password_encryption = 'scram-sha-256';

SELECT :'shelter_db' = :'db' AS shelter_in_main_db,
       :'app_role' <> :'shelter_role' AND :'app_schema' <> :'shelter_schema' AS names_differ,
       length(:'app_password') > 0 AS has_app_password,
       length(:'shelter_password') > 0 AS has_shelter_password
\gset

\if :names_differ
\else
  -- Stop with an error (psql exits with status 3): the register must not share the county's
  -- role or schema.
  SELECT format('DO $do$ BEGIN RAISE EXCEPTION %L; END $do$',
                'app_role/app_schema and shelter_role/shelter_schema must differ')
  \gexec
\endif


-- ---------------------------------------------------------------------------------------
-- Roles. Login only: no superuser, no CREATEDB/CREATEROLE, no replication, no RLS bypass.
-- ---------------------------------------------------------------------------------------

SELECT format('CREATE ROLE %I LOGIN', :'app_role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_role')
\gexec
ALTER ROLE :"app_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

SELECT format('CREATE ROLE %I LOGIN', :'shelter_role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'shelter_role')
\gexec
ALTER ROLE :"shelter_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

\if :has_app_password
  ALTER ROLE :"app_role" PASSWORD :'app_password';
\endif
\if :has_shelter_password
  ALTER ROLE :"shelter_role" PASSWORD :'shelter_password';
\endif
-- Forget the passwords in this session as soon as they are set.
\unset app_password
\unset shelter_password


-- ---------------------------------------------------------------------------------------
-- The county's database. Only the two roles may connect (PUBLIC may not): the shelter role
-- only when its schema lives in this database.
-- ---------------------------------------------------------------------------------------

SELECT format('CREATE DATABASE %I ENCODING %L TEMPLATE template0', :'db', 'UTF8')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app_role";
\if :shelter_in_main_db
  GRANT CONNECT ON DATABASE :"db" TO :"shelter_role";
\else
  -- The register has a database of its own: the shelter role has no business in this one.
  REVOKE ALL ON DATABASE :"db" FROM :"shelter_role";
\endif

\connect :"db"

-- Before PostgreSQL 15 every role may create objects in `public`; nobody needs to here.
REVOKE ALL ON SCHEMA public FROM PUBLIC;

-- The server's own schema. The server's role owns it, because the server runs its own
-- migrations (tables, indexes, the append-only triggers on the event and access logs).
-- Note: an owner can drop its own triggers; the append-only guarantee holds against the
-- application's code, not against someone who logs in as this role.
CREATE SCHEMA IF NOT EXISTS :"app_schema" AUTHORIZATION :"app_role";
ALTER ROLE :"app_role" IN DATABASE :"db" SET search_path = :"app_schema";
-- Explicitly: the shelter role has nothing in the county's schema.
REVOKE ALL ON SCHEMA :"app_schema" FROM PUBLIC;
REVOKE ALL ON SCHEMA :"app_schema" FROM :"shelter_role";


-- ---------------------------------------------------------------------------------------
-- The shelter register: its own schema owned by its own role, in this database or in a
-- database of its own.
-- ---------------------------------------------------------------------------------------

\if :shelter_in_main_db
\else
  SELECT format('CREATE DATABASE %I ENCODING %L TEMPLATE template0', :'shelter_db', 'UTF8')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'shelter_db')
  \gexec
  REVOKE ALL ON DATABASE :"shelter_db" FROM PUBLIC;
  REVOKE ALL ON DATABASE :"shelter_db" FROM :"app_role";
  GRANT CONNECT ON DATABASE :"shelter_db" TO :"shelter_role";
  \connect :"shelter_db"
  REVOKE ALL ON SCHEMA public FROM PUBLIC;
\endif

CREATE SCHEMA IF NOT EXISTS :"shelter_schema" AUTHORIZATION :"shelter_role";
ALTER ROLE :"shelter_role" IN DATABASE :"shelter_db" SET search_path = :"shelter_schema";
-- The county role gets NO privilege on the register: no USAGE on the schema, so none of its
-- tables, sequences or functions can be reached, whatever grants they get later.
REVOKE ALL ON SCHEMA :"shelter_schema" FROM PUBLIC;
REVOKE ALL ON SCHEMA :"shelter_schema" FROM :"app_role";
-- New functions are executable by PUBLIC by default; not the register's.
ALTER DEFAULT PRIVILEGES FOR ROLE :"shelter_role" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;


-- ---------------------------------------------------------------------------------------
-- What was done.
-- ---------------------------------------------------------------------------------------

\unset QUIET
\echo
\echo 'Done. Roles:' :app_role 'and' :shelter_role
\echo 'County database' :db 'schema' :app_schema '(owner' :app_role ')'
\echo 'Shelter register in database' :shelter_db 'schema' :shelter_schema '(owner' :shelter_role ')'
\echo 'Check: the county role must answer f, f:'
SELECT has_schema_privilege(:'app_role', :'shelter_schema', 'USAGE')  AS county_usage_on_shelter,
       has_schema_privilege(:'app_role', :'shelter_schema', 'CREATE') AS county_create_on_shelter;
