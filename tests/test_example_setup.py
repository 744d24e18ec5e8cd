"""The examples install what they say: a CI job that pip-installs from git has git, and every example asks for
the `pulumi` (and `pulumi-policy`) floor pyproject.toml sets, never an older one the provider does not work with."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
IMAGES_WITHOUT_GIT = re.compile(r"(-slim|-alpine|^alpine)(\b|$)")


def floors() -> dict[str, str]:
    """`{"pulumi": "3.139.0", "pulumi-policy": "1.13"}`: each dependency's lowest allowed version."""
    found = {}
    for line in [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["policy"]]:
        requirement = Requirement(line)
        for spec in requirement.specifier:
            if spec.operator == ">=":
                found[requirement.name] = spec.version
    return found


def gitlab_jobs() -> dict[str, dict]:
    document = yaml.safe_load((ROOT / "examples" / "pipeline" / "gitlab-ci.yml").read_text())
    return {name: job for name, job in document.items() if isinstance(job, dict) and "script" in job}


def test_a_gitlab_job_that_installs_from_git_runs_in_an_image_with_git():
    jobs = gitlab_jobs()
    assert jobs
    for name, job in jobs.items():
        script = [*job.get("before_script", []), *job["script"]]
        installs_from_git = next((i for i, line in enumerate(script) if "git+" in line and "pip install" in line), None)
        if installs_from_git is None:
            continue
        installs_git = any(re.search(r"(apt-get|apk) .*install.* git\b", line) for line in script[:installs_from_git])
        assert installs_git or not IMAGES_WITHOUT_GIT.search(str(job.get("image", ""))), \
            f"{name}: image {job.get('image')} has no git, and pip install git+... needs it"


def test_the_github_workflow_installs_from_git_on_a_runner_with_git():
    workflow = yaml.safe_load((ROOT / "examples" / "pipeline" / "github-actions.yml").read_text())
    for name, job in workflow["jobs"].items():
        assert "container" not in job, f"{name}: a container image may lack git"
        assert job["runs-on"].startswith("ubuntu-"), name  # GitHub's Ubuntu runners ship git


@pytest.mark.parametrize("path", sorted((ROOT / "examples").rglob("requirements.txt")), ids=lambda p: p.parent.name)
def test_every_example_asks_for_the_floor_pyproject_sets(path):
    wanted = floors()
    assert wanted["pulumi"]
    for line in path.read_text().splitlines():
        code = line.split("#", 1)[0].strip()
        if not code or code.startswith(("../", "./")):
            continue
        requirement = Requirement(code)
        if requirement.name in wanted:
            lower = [spec.version for spec in requirement.specifier if spec.operator == ">="]
            assert lower == [wanted[requirement.name]], f"{path.relative_to(ROOT)}: {code} (floor {wanted[requirement.name]})"
