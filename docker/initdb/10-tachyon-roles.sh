#!/usr/bin/env bash
# First-start init script of the local postgres container (mounted at
# /docker-entrypoint-initdb.d by docker-compose.yml; works with the official image and the
# local stand-in). Creates the two roles of the env schema:
#   POSTGRES_MIGRATE_USER  DDL: owns the schema the migration runner (tachyon-db) creates
#   POSTGRES_APP_USER      DML only: what the api and the workers connect as
# The migration runner grants the app role its table privileges.
set -euo pipefail
: "${POSTGRES_MIGRATE_USER:?}" "${POSTGRES_MIGRATE_PASSWORD:?}" "${POSTGRES_APP_USER:?}" "${POSTGRES_APP_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v migrate_user="$POSTGRES_MIGRATE_USER" -v migrate_password="$POSTGRES_MIGRATE_PASSWORD" \
  -v app_user="$POSTGRES_APP_USER" -v app_password="$POSTGRES_APP_PASSWORD" \
  -v db="$POSTGRES_DB" <<'EOSQL'
CREATE ROLE :"migrate_user" LOGIN PASSWORD :'migrate_password';
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
GRANT CONNECT, CREATE ON DATABASE :"db" TO :"migrate_user";
GRANT CONNECT ON DATABASE :"db" TO :"app_user";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
EOSQL
echo "tachyon roles created: $POSTGRES_MIGRATE_USER (migrations), $POSTGRES_APP_USER (application)"
