"""mlrig: end-to-end MLOps on kfp, Feast, MLflow and BentoML."""

__version__ = "0.1.0"
