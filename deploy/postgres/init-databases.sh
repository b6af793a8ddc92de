#!/bin/sh
# One database and one role per service, each role owning its database only: no service reads another's data
# (DESIGN §1). Run once by PostgreSQL's image on an empty volume (/docker-entrypoint-initdb.d); on a server of
# your own, run it with psql as a superuser, the CARNET_DB_PASSWORD_<SERVICE> variables set.
set -eu
for service in identity directory notebook data_import notify audit; do
    variable="CARNET_DB_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')"
    password=$(printenv "$variable") || { echo "$variable is not set" >&2; exit 1; }
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        --set=role="$service" --set=password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
