"""What a package needs before anyone can adopt it, and a supply chain that installs only what was reviewed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_file_is_the_full_apache_2_text_pyproject_promises():
    text = (ROOT / "LICENSE").read_text()
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert "LICENSE" in PYPROJECT["project"]["license-files"]
    assert text.split()[:5] == ["Apache", "License", "Version", "2.0,", "January"]
    for clause in ("1. Definitions.", "2. Grant of Copyright License.", "3. Grant of Patent License.",
                   "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"):
        assert clause in text
    assert len(text.splitlines()) > 190


def test_changelog_has_an_unreleased_section_to_add_to():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog")
    assert "\n## [Unreleased]\n" in text


def test_readme_says_how_to_install_before_a_release_and_how_to_cut_one():
    readme = (ROOT / "README.md").read_text()
    installing = readme.split("## Installing", 1)[1].split("\n## ", 1)[0]
    assert "not published on PyPI" in installing and "full commit SHA" in installing
    releasing = readme.split("## Releasing", 1)[1].split("\n## ", 1)[0]
    for needed in ("__version__", "CHANGELOG", "python -m build", "scripts/check-wheel.sh", "trusted publishing"):
        assert needed in releasing, needed


def install_lines():
    """(file, line) of every place the repository tells pip what to install: commands and requirement lines."""
    files = [ROOT / "README.md", *sorted((ROOT / "examples").rglob("*")), *sorted((ROOT / ".ci").rglob("*"))]
    for path in files:
        if not path.is_file() or path.suffix not in ("", ".md", ".txt", ".yml", ".yaml", ".sh"):
            continue
        for line in path.read_text().splitlines():
            code = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()  # comments install nothing
            if path.name == "requirements.txt" and code or "pip install" in code:
                yield path, code


def test_nothing_installs_ncr_provider_by_name_from_an_index():
    """The name is unclaimed on PyPI: an install by name would run whoever registers it first."""
    by_name = re.compile(r"(?<![\w/.@-])ncr-provider(\[\w+\])?(\s*[=<>~!]=?[^\s\"']*)?(?=[\s\"']|$)(?!\s*@)")
    offenders = []
    for path, line in install_lines():
        if "Do not `pip install ncr-provider`" in line:
            continue
        if by_name.search(line.split("pip install", 1)[-1]):
            offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("line,offends", [
    ("run: python -m pip install ncr-provider", True),
    ("pip install ncr-provider==0.1.0", True),
    ("ncr-provider[policy]", True),
    ('pip install "ncr-provider @ git+https://github.com/o/ncr-provider@' + "a" * 40 + '"', False),
    ("../..[policy]", False),
    ("pip install -e .", False),
])
def test_the_by_name_rule_catches_what_it_should(line, offends):
    by_name = re.compile(r"(?<![\w/.@-])ncr-provider(\[\w+\])?(\s*[=<>~!]=?[^\s\"']*)?(?=[\s\"']|$)(?!\s*@)")
    assert bool(by_name.search(line.split("pip install", 1)[-1])) is offends


def test_ci_builds_and_runs_the_wheel_alone():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/check-wheel.sh" in ci
    script = (ROOT / "scripts" / "check-wheel.sh").read_text()
    for step in ("-m build --outdir", "-m venv", "pip\" install -q \"${wheels[0]}\"", "ncr-image\" demo",
                 "ncr-image\" emulator --help"):
        assert step in script, step
    assert any(req.startswith("build") for req in PYPROJECT["project"]["optional-dependencies"]["test"])
