"""The deployment kit in deploy/ (no Docker engine or cluster runs here, so this is what can be checked):
every YAML file parses; every environment variable set for our containers is one the settings read
(.env.example); every image and base image is pinned to a version; the committed endpoints.yml names
our own Redis stores, as `recoverydesk up` generates them."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from recoverydesk.ops.stack import runtime_endpoints
from recoverydesk.settings import ROOT, Settings
from tests.unit.test_env_example import example_values

DEPLOY = ROOT / "deploy"
YAML_FILES = sorted([*DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml")])
DOCKERFILES = sorted(DEPLOY.rglob("*Dockerfile"))
OUR_IMAGES = re.compile(r"(^|/)recoverydesk-(rasa|actions|helpdesk):")
FLOATING_TAGS = {"latest", "stable", "main", "master", "edge", "lts"}


def documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict:
    [document] = documents(DEPLOY / "compose.yaml")
    return document


def helm_values() -> dict:
    [document] = documents(DEPLOY / "helm" / "rasa-values.yaml")
    return document


def k8s_containers() -> Iterator[dict]:
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in documents(path):
            spec = document.get("spec", {}).get("template", {}).get("spec", {})
            yield from spec.get("containers", []) + spec.get("initContainers", [])


def env_set_for_our_containers() -> dict[str, set[str]]:
    """Where each variable is set, for every container that runs our images."""
    found: dict[str, set[str]] = {}

    def add(names: Any, where: str) -> None:
        for name in names:
            found.setdefault(name, set()).add(where)

    for name, service in compose()["services"].items():
        if OUR_IMAGES.search(service.get("image", "")):
            add(service.get("environment", {}), f"compose:{name}")
    values = helm_values()
    add((item["name"] for item in values.get("extraEnv", [])), "helm:rasa")
    for container in values.get("extraContainers", []):
        add((item["name"] for item in container.get("env", [])), f"helm:{container['name']}")
    for container in k8s_containers():
        add((item["name"] for item in container.get("env", [])), f"k8s:{container['name']}")
    return found


def image_references() -> list[str]:
    images = [service["image"] for service in compose()["services"].values() if "image" in service]
    values = helm_values()
    images.append(f"{values['image']['repository']}:{values['image']['tag']}")
    images += [container["image"] for container in values.get("extraContainers", [])]
    images += [container["image"] for container in k8s_containers()]
    for path in DOCKERFILES:
        images += re.findall(r"^FROM\s+(\S+)", path.read_text(), flags=re.MULTILINE)
    return images


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_in_deploy_parses(path):
    assert documents(path), f"{path} is empty"


def test_the_kit_has_its_parts():
    services = compose()["services"]
    assert {"redis", "rasa", "actions", "helpdesk", "mailpit", "postgres"} <= set(services)
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert {p.name for p in DOCKERFILES} == {"rasa.Dockerfile", "actions.Dockerfile", "helpdesk.Dockerfile"}
    assert any(c["name"] == "helpdesk" for c in k8s_containers())


def test_every_variable_set_for_our_containers_is_one_the_settings_read():
    read = set(example_values())
    found = env_set_for_our_containers()
    assert {"REDIS_URL", "RECOVERYDESK_SECRET_KEY", "RASA_TOKEN"} <= set(found)  # the parser sees the files
    unknown = {name: sorted(where) for name, where in found.items() if name not in read}
    assert unknown == {}, f"set in deploy/ but never read by recoverydesk/settings.py: {unknown}"


def test_every_image_and_base_image_is_pinned_to_a_version():
    images = image_references()
    assert "rasa/rasa:3.6.21" in images and "rasa/rasa-sdk:3.6.2" in images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image} has no tag"
        assert tag not in FLOATING_TAGS and re.search(r"\d", tag), f"{image} is not pinned to a version"


def test_our_images_match_the_project_version():
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    ours = [image for image in image_references() if OUR_IMAGES.search(image)]
    assert ours and all(image.endswith(f":{version}") for image in ours), ours


def test_the_committed_endpoints_name_our_stores_as_recoverydesk_up_generates_them(tmp_path):
    committed = documents(DEPLOY / "endpoints.yml")[0]
    settings = Settings.from_env(
        {
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "RECOVERYDESK_SECRET_KEY": "k" * 40,
            "RECOVERYDESK_VAR_DIR": str(tmp_path),
        }
    )
    generated = runtime_endpoints(settings)
    assert set(committed) == set(generated)
    assert committed["action_endpoint"] == generated["action_endpoint"]
    assert committed["nlg"] == generated["nlg"]
    for store in ("tracker_store", "lock_store", "event_broker"):
        assert committed[store]["type"] == generated[store]["type"]
        assert committed[store]["url"] == "${REDIS_URL}"
        for option in ("key_prefix", "record_exp"):
            assert committed[store].get(option) == generated[store].get(option), (store, option)
        module, _, name = committed[store]["type"].rpartition(".")
        assert module.startswith("bot.rasa_plugins.") and isinstance(
            getattr(importlib.import_module(module), name), type
        )
