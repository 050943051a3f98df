-- Runs once when the compose database volume is created. Two ordinary roles (not superusers, without
-- BYPASSRLS, so the row level security policies apply to both): the owner runs the migrations; the app
-- serves as the runtime role, which owns nothing and so cannot alter a table or drop a policy
-- (`migrate` grants it row access: csplatform/tenancy/db_roles.py).
CREATE ROLE csplatform LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS PASSWORD 'csplatform';
CREATE ROLE csplatform_app LOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT PASSWORD 'csplatform_app';
CREATE DATABASE csplatform OWNER csplatform;
