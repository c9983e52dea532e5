"""deploy/: the Kubernetes manifests are valid for the Kubernetes they target, and say what the app
needs (docs/deploy.md). Nothing here talks to a cluster: the build machines have none.

Every document is checked against the OpenAPI schemas of Kubernetes KUBERNETES_VERSION that
kubernetes-validate bundles (offline), in strict mode: a misspelt or misplaced field fails, as
`kubectl apply --validate=strict` would. The rest are the facts the app relies on: a grace period
that covers the graceful stop, the probes on /ready and /health, a container that cannot write
or escalate, secret files named after settings, selectors that find the pods, egress kept off
private addresses.
"""

import copy
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# The oldest Kubernetes these manifests claim (deployment.yaml's preStop says why it matters).
KUBERNETES_VERSION = "1.31"
APP_LABEL = "member-platform-bff"
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(DEPLOY.glob("*.y*ml")):
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    return found


DOCUMENTS = _documents()
RESOURCES = [(name, doc) for name, doc in DOCUMENTS if doc["kind"] != "Kustomization"]


def _one(kind: str) -> dict[str, Any]:
    (found,) = [doc for name, doc in RESOURCES if doc["kind"] == kind and not name.endswith(".example.yaml")]
    return found


def _validate(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    return _one("Deployment")


@pytest.fixture(scope="module")
def container(deployment) -> dict[str, Any]:
    (found,) = deployment["spec"]["template"]["spec"]["containers"]
    return found


@pytest.fixture(scope="module")
def config() -> dict[str, str]:
    return _one("ConfigMap")["data"]


# --- valid Kubernetes ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "doc"), RESOURCES, ids=[f"{n}:{d['kind']}" for n, d in RESOURCES])
def test_every_manifest_is_valid_for_the_target_kubernetes(name, doc):
    try:
        _validate(doc)
    except kubernetes_validate.ValidationError as error:
        problem = f"{name}: {'.'.join(map(str, error.absolute_path))}: {error.message}"
    else:
        return
    pytest.fail(problem, pytrace=False)  # one line, not the schema's dump


def test_every_resource_is_in_the_namespace_with_the_app_label():
    (namespace,) = [doc for _, doc in RESOURCES if doc["kind"] == "Namespace"]
    # Pod Security Admission holds every pod there to the "restricted" profile.
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for _, doc in RESOURCES:
        if doc is not namespace:
            assert doc["metadata"]["namespace"] == namespace["metadata"]["name"]
            assert doc["metadata"]["labels"]["app"] == APP_LABEL


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["spec"].update(replicass=3),  # an unknown field
        lambda d: d["spec"]["template"]["spec"]["containers"][0].update(readinesProbe={}),
        lambda d: d["spec"]["template"]["spec"].update(terminationGracePeriodSeconds="40"),  # a wrong type
    ],
    ids=["unknown field", "misspelt probe", "wrong type"],
)
def test_the_validation_refuses_a_broken_deployment(deployment, breakage):
    broken = copy.deepcopy(deployment)
    breakage(broken)
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(broken)


def test_the_kustomization_applies_every_manifest_but_the_example_secret():
    (kustomization,) = [doc for _, doc in DOCUMENTS if doc["kind"] == "Kustomization"]
    assert kustomization["namespace"] == "member-platform"
    files = {name for name, doc in RESOURCES if name != "secret.example.yaml"}
    assert set(kustomization["resources"]) == files
    assert [doc["kind"] for name, doc in RESOURCES if name == "secret.example.yaml"] == ["Secret"]


# --- the graceful stop and the probes --------------------------------------------------------


def test_the_grace_period_covers_prestop_drain_and_shutdown_timeout(deployment, container, config):
    pod = deployment["spec"]["template"]["spec"]
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop_s = float(command[1])
    # Settings the ConfigMap provides, not overridden by the container's own `env`.
    assert {"SHUTDOWN_DRAIN_S", "SHUTDOWN_TIMEOUT_S"}.isdisjoint(entry["name"] for entry in container["env"])
    assert container["envFrom"] == [{"configMapRef": {"name": _one("ConfigMap")["metadata"]["name"]}}]
    needed = pre_stop_s + float(config["SHUTDOWN_DRAIN_S"]) + float(config["SHUTDOWN_TIMEOUT_S"])
    assert pod["terminationGracePeriodSeconds"] > needed
    # A preStop long enough for endpoint changes to reach kube-proxy and ingress controllers.
    assert pre_stop_s >= 3


def test_readiness_is_ready_and_liveness_is_health_on_the_named_port(container):
    (port,) = container["ports"]
    assert (port["name"], port["containerPort"]) == ("http", 8000)
    env = {entry["name"]: entry["value"] for entry in container["env"]}
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "8000")
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    # The start is checked without Convex: an unreachable Convex keeps a pod unready, never restarts it.
    assert container["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["livenessProbe"]["timeoutSeconds"] >= 1


def test_the_container_runs_the_images_command(container):
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(json.loads(line.removeprefix("CMD")) for line in dockerfile.splitlines() if line.startswith("CMD ["))
    assert container["command"] == cmd == ["python", "-m", "app.serve"]


# --- the container's rights ------------------------------------------------------------------


def test_the_container_is_non_root_read_only_and_drops_every_capability(deployment, container):
    pod = deployment["spec"]["template"]["spec"]
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    # A number, as runAsNonRoot can verify, and the Dockerfile's own.
    assert security["runAsUser"] == pod["securityContext"]["runAsUser"] == 65534
    assert re.search(r"^USER 65534:65534$", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    # The one writable place: /tmp, a volume of its own.
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    (tmp,) = [mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp"]
    assert "emptyDir" in volumes[tmp["name"]]


def _secret_fields() -> set[str]:
    return {name for name, field in Settings.model_fields.items() if field.annotation is SecretStr}


def test_every_mounted_secret_file_is_a_secret_setting(deployment, container):
    pod = deployment["spec"]["template"]["spec"]
    (mount,) = [mount for mount in container["volumeMounts"] if mount["mountPath"] == "/run/secrets"]
    assert mount["readOnly"] is True
    (volume,) = [volume for volume in pod["volumes"] if volume["name"] == mount["name"]]
    secret = volume["secret"]
    # Readable by the group the process runs in (fsGroup), by no one else.
    assert secret["defaultMode"] in (0o400, 0o440)
    if secret["defaultMode"] == 0o440:
        assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    files = {item["path"] for item in secret["items"]}
    assert all(item["key"] == item["path"] for item in secret["items"])
    # A renamed setting fails here: its file would no longer be read.
    assert files == _secret_fields()
    example = _one_example_secret()
    assert example["metadata"]["name"] == secret["secretName"]
    assert set(example["stringData"]) == files


def _one_example_secret() -> dict[str, Any]:
    (found,) = [doc for name, doc in RESOURCES if name == "secret.example.yaml"]
    return found


def test_the_example_secret_holds_only_placeholders():
    assert all(value.startswith("REPLACE-ME") for value in _one_example_secret()["stringData"].values())


def test_every_configmap_key_is_a_setting(config):
    # Settings ignores unknown variables: a misspelt or renamed one would be silently unused.
    assert {key.lower() for key in config} <= set(Settings.model_fields)


def test_the_configmap_with_its_secrets_is_accepted_in_production(config, container, monkeypatch, tmp_path):
    for name in _secret_fields():
        (tmp_path / name).write_text("x" * 40 + "\n")
    for name in ("session_encryption_key", "webhook_encryption_key"):
        (tmp_path / name).write_text("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=\n")
    env = {**config, **{entry["name"]: entry["value"] for entry in container["env"]}}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None, _secrets_dir=tmp_path)
    assert settings.production
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)
    assert settings.convex_admin_key.get_secret_value() == "x" * 40


# --- what finds the pods ---------------------------------------------------------------------


def test_the_service_targets_the_containers_port(deployment, container):
    service = _one("Service")
    assert service["spec"]["type"] == "ClusterIP"
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    assert port["targetPort"] in {p["name"] for p in container["ports"]}
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_the_hpa_and_pdb_select_the_deployments_pods(deployment):
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = _one("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        deployment["apiVersion"],
        "Deployment",
        deployment["metadata"]["name"],
    )
    assert hpa["spec"]["minReplicas"] >= 3
    pdb = _one("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    network_policy = _one("NetworkPolicy")
    assert network_policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()


# --- the network -----------------------------------------------------------------------------


def test_the_network_policy_denies_egress_to_private_ranges():
    spec = _one("NetworkPolicy")["spec"]
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    private = [ipaddress.ip_network(cidr) for cidr in PRIVATE_RANGES]
    for rule in spec["egress"]:
        # A rule without `to` allows every destination.
        assert rule.get("to"), rule
        for peer in rule["to"]:
            if "ipBlock" not in peer:
                # Cluster peers by label: DNS in kube-system only.
                assert peer == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
                assert {p["port"] for p in rule["ports"]} == {53}
                continue
            block = ipaddress.ip_network(peer["ipBlock"]["cidr"])
            excepted = [ipaddress.ip_network(cidr) for cidr in peer["ipBlock"].get("except", [])]
            for network in private:
                if network.overlaps(block):
                    assert any(network.subnet_of(e) for e in excepted), f"{block} reaches {network}"
            assert {p["port"] for p in rule["ports"]} == {443}


def test_the_network_policy_admits_only_the_ingress_controller_and_monitoring_on_the_app_port(container):
    (rule,) = _one("NetworkPolicy")["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [container["ports"][0]["containerPort"]]
    namespaces = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in rule["from"]}
    assert namespaces == {"ingress-nginx", "monitoring"}
