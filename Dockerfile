# The one mlrig image: every pipeline component, the BentoML service, the MLflow server and the Feast
# feature server run from it. Users with a registry keep the default base; elsewhere build one locally
# (tools/build-local-base.sh) and pass --build-arg BASE_IMAGE=local/python:3.11-bookworm-omp.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# Extra CA certificates (TLS-intercepting corporate proxies): put *.crt files in extra-ca/ (mlrig image
# build --extra-ca FILE does that). Nothing is added when the folder holds only its README.
COPY extra-ca/ /usr/local/share/ca-certificates/mlrig/
RUN (command -v update-ca-certificates >/dev/null && update-ca-certificates >/dev/null) || true
# LightGBM needs the GNU OpenMP runtime (python:3.11-slim lacks it; the local base includes it).
RUN ldconfig -p | grep -q libgomp.so.1 || (apt-get update -q \
    && apt-get install -y -q --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*)
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=true \
    BENTOML_DO_NOT_TRACK=true \
    HOME=/home/mlrig

# Sources go to /src only for the install: a source tree in the working directory would shadow the
# installed package.
# The extras installed: cluster; cluster,spark for manifests/overlays/spark (pyspark, +400 MB).
ARG MLRIG_EXTRAS=cluster
COPY pyproject.toml README.md mlrig.yaml constraints.txt /src/
COPY mlrig/ /src/mlrig/
COPY components/ /src/components/
COPY pipelines/ /src/pipelines/
COPY serving/ /src/serving/
COPY feature_repo/ /app/feature_repo/
RUN python3 -m pip install --quiet "/src[${MLRIG_EXTRAS}]" -c /src/constraints.txt \
 && cp /src/mlrig.yaml /app/mlrig.yaml && rm -rf /src \
 && useradd --uid 10001 --create-home --home-dir /home/mlrig --shell /usr/sbin/nologin mlrig \
 && mkdir -p /data && chown 10001:10001 /data
WORKDIR /app

USER 10001
ENV MLRIG_CONFIG=/app/mlrig.yaml
EXPOSE 3000
CMD ["mlrig", "--help"]
