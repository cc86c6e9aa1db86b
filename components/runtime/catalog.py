"""Names of the artifacts stages hand each other, in one place every stage reads."""

# Columns
EVENT_TS = "event_timestamp"  # the point-in-time column of entity frames and feature tables
INGESTED_AT = "_ingested_at"  # event time of tables that have none: when they were ingested
REASON = "_reason"  # why a row was quarantined
SEP = "__"  # view__feature: a model input's name

# Tables inside artifact folders
TRAINING_SET = "training_set"
HOLDOUT = "holdout"
TRAIN_PART = "train"

# Files inside artifact folders
CONTRACT_FILE = "contract.json"  # the model's contract (features stage drafts it, train completes)
RUN_FILE = "run.json"  # the train stage's MLflow run, model URI and CV results
METRICS_FILE = "metrics.json"
EVAL_REPORT_FILE = "evaluation.html"
EDA_REPORT_FILE = "eda.html"
QUARANTINE_REPORT = "report.json"
PREDICTIONS_FILE = "predictions.parquet"
REJECTED_FILE = "rejected.parquet"
SUMMARY_FILE = "summary.json"
REFERENCE_FILE = "reference.parquet"  # the monitor's reference sample, in the training run
HOLDOUT_SAMPLE_FILE = "holdout_sample.parquet"  # model inputs of holdout rows, in "evaluation"
REFERENCE_SCORE = "_mlrig_score"  # its model score column (a model input may be named "score")

# MLflow
CHAMPION = "champion"
SHADOW = "shadow"  # the registry alias of a version scoring served requests off the response path
CHALLENGER = "challenger"
MODEL_ARTIFACT = "model"
CONTRACT_METADATA_KEY = "mlrig_contract"  # the contract inside the logged model's MLmodel
