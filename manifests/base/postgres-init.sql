-- Runs once, on an empty data directory: the Feast registry gets its own database beside MLflow's.
CREATE DATABASE feast OWNER mlrig;
