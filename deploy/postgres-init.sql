-- Runs once when the compose database volume is created. The app connects as an ordinary role:
-- not a superuser and without BYPASSRLS, so the row level security policies apply to it.
CREATE ROLE csplatform LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS PASSWORD 'csplatform';
CREATE DATABASE csplatform OWNER csplatform;
