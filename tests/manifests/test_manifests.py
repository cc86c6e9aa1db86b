"""Every overlay renders, validates against the Kubernetes schemas, passes checkov, and meets the
Pod Security Standards "restricted" profile, with least-privilege RBAC and no committed secrets."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ["kind", "minikube", "multinode", "spark"]
TOOLS = Path(os.environ.get("MLRIG_TOOLS_BIN", "/opt/mlrig-tools/bin"))


def _tool(name: str) -> str:
    found = shutil.which(name) or (str(TOOLS / name) if (TOOLS / name).exists() else None)
    if not found:
        pytest.skip(f"{name} is not installed (.ci/run installs it into {TOOLS})")
    return found


def _render(overlay: str) -> str:
    kubectl = _tool("kubectl")
    out = subprocess.run(
        [kubectl, "kustomize", str(REPO / "manifests/overlays" / overlay)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request, tmp_path_factory) -> tuple[Path, list[dict]]:
    text = _render(request.param)
    path = tmp_path_factory.mktemp(request.param) / "rendered.yaml"
    path.write_text(text)
    return path, [d for d in yaml.safe_load_all(text) if d]


def _pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    specs = []
    for doc in docs:
        spec = doc.get("spec", {})
        if doc["kind"] in ("Deployment", "StatefulSet"):
            specs.append((doc["metadata"]["name"], spec["template"]["spec"]))
        elif doc["kind"] == "CronJob":
            specs.append((doc["metadata"]["name"], spec["jobTemplate"]["spec"]["template"]["spec"]))
    return specs


def test_overlay_covers_every_service(rendered):
    _, docs = rendered
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for expected in [
        ("Namespace", "mlrig"), ("StatefulSet", "postgres"), ("Deployment", "mlflow"),
        ("Deployment", "redis"), ("Deployment", "feast"), ("CronJob", "feast-materialize"),
        ("Deployment", "mlrig-serving"), ("Service", "mlrig-serving"),
        ("HorizontalPodAutoscaler", "mlrig-serving"), ("PodDisruptionBudget", "mlrig-serving"),
        ("ServiceAccount", "mlrig-pipeline-runner"), ("Role", "mlrig-pipeline-runner"),
        ("NetworkPolicy", "default-deny"), ("Deployment", "prometheus"),
        ("ConfigMap", "grafana-dashboard-mlrig"),
    ]:  # fmt: skip
        assert expected in names, expected
    assert all(d["metadata"].get("namespace") == "mlrig" for d in docs if d["kind"] != "Namespace")


def test_schema_validation_strict_has_no_errors(rendered):
    path, _ = rendered
    tool = _tool("kubernetes-validate")
    result = subprocess.run(
        [tool, "--strict", "--quiet", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory) -> dict:
    """One checkov run over every overlay (its start-up is most of its time)."""
    tool = _tool("checkov")
    folder = tmp_path_factory.mktemp("checkov")
    files = []
    for overlay in OVERLAYS:
        files += ["-f", str(folder / f"{overlay}.yaml")]
        (folder / f"{overlay}.yaml").write_text(_render(overlay))
    result = subprocess.run(
        [tool, *files, "--framework", "kubernetes", "--skip-download", "-o", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_checkov_reports_no_failed_checks(rendered, checkov_report):
    path, _ = rendered
    overlay = path.parent.name.rstrip("0123456789")
    results = checkov_report["results"]
    mine = [c for c in results["passed_checks"] if c["file_path"].endswith(f"/{overlay}.yaml")]
    failed = [c["check_id"] + " " + c["resource"] + " " + c["file_path"]
              for c in results["failed_checks"]]  # fmt: skip
    assert not failed, failed
    assert len(mine) > 100, (overlay, len(mine))


def test_every_pod_meets_restricted_with_resources_and_probes(rendered):
    _, docs = rendered
    for name, pod in _pod_specs(docs):
        ctx = pod["securityContext"]
        assert ctx["runAsNonRoot"] is True, name
        assert ctx["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        assert not pod.get("hostNetwork") and not pod.get("hostPID"), name
        for container in pod["containers"] + pod.get("initContainers", []):
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], name
            assert sc.get("privileged") is not True, name
            res = container["resources"]
            assert {"cpu", "memory"} <= set(res["requests"]) and {"cpu", "memory"} <= set(
                res["limits"]
            )
            assert container["image"].split(":")[-1] not in ("", "latest"), name
            if name not in ("feast-materialize", "mlrig-monitor"):  # Jobs: nothing long to probe
                assert "readinessProbe" in container and "livenessProbe" in container, name
        for volume in pod.get("volumes", []):
            assert "hostPath" not in volume, name


def test_rbac_is_least_privilege(rendered):
    _, docs = rendered
    roles = [d for d in docs if d["kind"] in ("Role", "ClusterRole")]
    assert roles and not [d for d in docs if d["kind"] == "ClusterRole"]
    for role in roles:
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[key], (role["metadata"]["name"], key)
            assert "pods/log" not in rule["resources"], role["metadata"]["name"]
            if "secrets" in rule["resources"] or "configmaps" in rule["resources"]:
                assert rule.get("resourceNames") and rule["verbs"] == ["get"], rule  # by name
            writes = {"create", "update", "patch", "delete"} & set(rule["verbs"])
            if writes:  # only Argo's executor recording its own task results
                assert rule["resources"] == ["workflowtaskresults"], rule
                assert writes == {"create", "patch"}, rule


def test_no_secret_values_are_committed(rendered):
    _, docs = rendered
    assert not [d for d in docs if d["kind"] == "Secret"]
    text = yaml.safe_dump_all(docs)
    assert "password:" not in text.replace("POSTGRES_PASSWORD_FILE", "")


def test_no_password_reaches_a_command_line(rendered):
    """A secret file may be read into a variable, an environment assignment or a config file by
    the shell, never expanded into a program's arguments (visible in ps and /proc)."""
    _, docs = rendered
    allowed = re.compile(r'(export \w+=|\w+=|printf [^|]*)"?(\S*)\$\(cat /run/secrets')
    for name, spec in _pod_specs(docs):
        for container in spec.get("containers", []):
            line = " ".join(container.get("command", []) + container.get("args", []))
            for statement in re.split(r"&&|;", line):
                if "$(cat /run/secrets" in statement:
                    assert allowed.search(statement), (name, statement.strip()[:120])
                    if "printf" in statement:
                        assert ">" in statement.split("$(cat", 1)[1], (name, statement)
            probes = [container.get(k, {}).get("exec", {}).get("command", [])
                      for k in ("readinessProbe", "livenessProbe")]  # fmt: skip
            for probe in probes:
                assert "-a" not in probe and "--pass" not in probe, (name, probe)


def test_redis_requires_its_password_with_protected_mode_on(rendered):
    _, docs = rendered
    redis = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "redis")
    line = " ".join(redis["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "requirepass" in line and "--protected-mode yes" in line
    store = yaml.safe_load((REPO / "manifests/base/feature_store.yaml").read_text())
    assert "password=${MLRIG_REDIS_PASSWORD}" in store["online_store"]["connection_string"]
    profile = yaml.safe_load((REPO / "mlrig.yaml").read_text())["profiles"]["cluster"]
    assert "password=${MLRIG_REDIS_PASSWORD}" in profile["stores"]["feast_redis"]


def test_every_pod_is_selected_by_a_network_policy(rendered):
    _, docs = rendered
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    deny = [
        p for p in policies
        if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"] and "egress" not in p["spec"]
    ]  # fmt: skip
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def _policy(docs: list[dict], name: str) -> dict:
    return next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name)


def test_apps_reach_the_read_only_feature_server_by_label(rendered):
    _, docs = rendered
    label = {"mlrig.io/feature-client": "true"}
    ingress = _policy(docs, "feast")["spec"]["ingress"]
    assert [peer["podSelector"]["matchLabels"] for rule in ingress for peer in rule["from"]] == [
        label
    ]
    egress = _policy(docs, "feature-clients")["spec"]
    assert egress["podSelector"]["matchLabels"] == label
    assert egress["egress"][0]["to"][0]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "feast"
    }
    feast = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "feast")
    command = " ".join(feast["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "exec mlrig features serve" in command and "feast serve" not in command


def test_pipeline_egress_names_every_destination(rendered):
    _, docs = rendered
    rules = _policy(docs, "pipeline")["spec"]["egress"]
    assert all(rule.get("to") for rule in rules)  # no "any address on a port"
    blocks = [p["ipBlock"]["cidr"] for r in rules for p in r["to"] if "ipBlock" in p]
    assert "0.0.0.0/0" not in blocks and all(not c.endswith("/0") for c in blocks)
    kfp = next(r for r in rules if "namespaceSelector" in r["to"][0])
    ports = {p["port"] for p in kfp["ports"]}
    assert {8080, 8888, 9000} <= ports  # metadata gRPC, KFP API, MinIO


def test_volumes_fit_the_overlay(rendered):
    path, docs = rendered
    claims = {
        d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "PersistentVolumeClaim"
    }
    modes = {spec["accessModes"][0] for name, spec in claims.items() if name != "postgres"}
    multinode = "multinode" in str(path.parent)
    assert modes == ({"ReadWriteMany"} if multinode else {"ReadWriteOnce"})


def test_kind_cluster_config_parses():
    config = yaml.safe_load((REPO / "manifests/kind/cluster.yaml").read_text())
    assert config["kind"] == "Cluster" and config["nodes"][0]["role"] == "control-plane"


def test_every_dashboard_metric_is_exported_by_the_service():
    """A panel over a metric nobody exports shows nothing: each mlrig_* name in a query is
    defined in the service, and the monitor's gauges have their panels."""
    import json
    import re

    root = Path(__file__).resolve().parents[2]
    doc = yaml.safe_load((root / "manifests/base/grafana-dashboard.yaml").read_text())
    dashboard = json.loads(doc["data"]["mlrig-serving.json"])
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {re.sub(r"_(total|bucket|count|sum)$", "", m)
            for e in exprs for m in re.findall(r"\bmlrig_[a-z_]+", e)}  # fmt: skip
    service = (root / "serving/metrics.py").read_text()
    defined = set(re.findall(r'(?:Counter|Gauge|Histogram)\(\s*"(mlrig_[a-z_]+)"', service))
    assert used <= defined, used - defined
    assert {"mlrig_monitor", "mlrig_monitor_feature_psi", "mlrig_monitor_window_metric"} <= used


def _mounted_secret_keys(spec: dict) -> dict[str, set[str]]:
    """Each Secret a pod mounts, with the keys it projects (all of them without items)."""
    from mlrig.cluster.cluster_ops import SECRETS

    mounted = {}
    for volume in spec["volumes"]:
        if "secret" in volume:
            secret = volume["secret"]
            keys = [i["key"] for i in secret.get("items", [])]
            mounted[secret["secretName"]] = set(keys or SECRETS[secret["secretName"]])
    return mounted


def test_the_read_only_feature_server_holds_no_mlflow_login(rendered):
    _, docs = rendered
    (spec,) = [s for name, s in _pod_specs(docs) if name == "feast"]
    assert _mounted_secret_keys(spec) == {"mlrig-postgres": {"password", "redis-password"}}


def test_the_serving_pods_hold_only_read_logins(rendered):
    """The pods facing clients log in to MLflow as the read-only `serving` user and never mount
    the pipeline's login (mlrig-postgres' mlflow-auth-password) or MLflow's own Secret."""
    _, docs = rendered
    (spec,) = [s for name, s in _pod_specs(docs) if name == "mlrig-serving"]
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env["MLFLOW_TRACKING_USERNAME"] == "serving"
    mounted = _mounted_secret_keys(spec)
    assert "mlrig-mlflow-db" not in mounted and "mlrig-db-admin" not in mounted
    assert "mlflow-auth-password" not in mounted["mlrig-postgres"]
    assert mounted["mlrig-mlflow-serving"] == {"password"}
    path = env["MLFLOW_TRACKING_PASSWORD_FILE"]
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    assert path.startswith(mounts["mlflow-serving"])


def test_every_alert_rule_reads_metrics_the_service_exports(rendered):
    """Prometheus loads the rules file, and each mlrig_* name in a rule is defined by the service
    (a rule over a metric nobody exports never fires)."""
    import re

    _, docs = rendered
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"
                 and d["metadata"]["name"].startswith("prometheus-config")]  # fmt: skip
    assert (
        "/etc/prometheus/rules.yml"
        in yaml.safe_load(config["data"]["prometheus.yml"])["rule_files"]
    )
    rules = [r for g in yaml.safe_load(config["data"]["rules.yml"])["groups"] for r in g["rules"]]
    names = {r["alert"] for r in rules}
    assert {"MlrigFeatureViewStale", "MlrigFeaturesNotMaterialized"} <= names
    root = Path(__file__).resolve().parents[2]
    service = (root / "serving/metrics.py").read_text()
    defined = set(re.findall(r'(?:Counter|Gauge|Histogram)\(\s*"(mlrig_[a-z_]+)"', service))
    used = {m for r in rules for m in re.findall(r"\bmlrig_[a-z_]+", r["expr"])}
    assert used and used <= defined, used - defined


def test_the_spark_overlay_points_the_offline_readers_at_spark_connect_and_no_further():
    docs = [d for d in yaml.safe_load_all(_render("spark")) if d]
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "mlrig-spark"
    )
    assert config["data"]["remote"].startswith("sc://")
    for name in ("feast-materialize", "mlrig-monitor"):
        job = next(d for d in docs if d["kind"] == "CronJob" and d["metadata"]["name"] == name)
        template = job["spec"]["jobTemplate"]["spec"]["template"]
        container = template["spec"]["containers"][0]
        assert container["command"][-2:] == ["--profile", "spark"]
        remote = next(e for e in container["env"] if e["name"] == "MLRIG_SPARK_REMOTE")
        assert remote["valueFrom"]["configMapKeyRef"] == {"name": "mlrig-spark", "key": "remote"}
        assert template["metadata"]["labels"]["mlrig.io/spark-client"] == "true"
    egress = _policy(docs, "spark-clients")["spec"]["egress"]
    assert egress == [{"to": [{"namespaceSelector": {"matchLabels": {"mlrig.io/spark": "true"}}}],
                       "ports": [{"protocol": "TCP", "port": 15002}]}]  # fmt: skip
    others = [d for d in docs if d["kind"] == "CronJob" and "spark" not in json.dumps(d)]
    assert not others  # every job here reads the offline store
