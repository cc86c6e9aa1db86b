#!/bin/sh
# Runs once, on an empty data directory (a cluster set up before the prediction log moved here needs
# the predictions role and database created by hand, as below), as the image entrypoint's superuser: one role per service,
# each the owner of its own database only, and no database open to PUBLIC. The passwords are read
# from the mounted Secret into a here-document: never on a command line.
set -eu
secrets="${MLRIG_DB_SECRETS:-/run/secrets/postgres}"
mlflow_pw="$(cat "$secrets/mlflow-password")"
feast_pw="$(cat "$secrets/feast-password")"
predictions_pw="$(cat "$secrets/predictions-password")"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres <<EOSQL
CREATE ROLE mlflow LOGIN PASSWORD '${mlflow_pw}';
CREATE ROLE feast LOGIN PASSWORD '${feast_pw}';
CREATE ROLE predictions LOGIN PASSWORD '${predictions_pw}';
CREATE DATABASE mlflow OWNER mlflow;
CREATE DATABASE feast OWNER feast;
CREATE DATABASE predictions OWNER predictions;
REVOKE ALL ON DATABASE mlflow FROM PUBLIC;
REVOKE ALL ON DATABASE feast FROM PUBLIC;
REVOKE ALL ON DATABASE predictions FROM PUBLIC;
EOSQL
