"""The README is the front door: its commands and its configuration table stay true."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import OLD_CLI_SENTENCE

from ncr_provider.config import SETTINGS, SITES
from ncr_provider.engine_config import MIN_CLI_VERSION

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def quickstart_commands() -> list[str]:
    block = README.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_quickstart_is_two_commands_demo_then_tests():
    demo, tests = quickstart_commands()
    assert demo.endswith("ncr-image demo")
    assert tests.endswith("pytest")


def test_ci_runs_the_readme_test_command():
    _, tests = quickstart_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()


def test_configuration_table_matches_the_settings_table():
    rows = {}
    for line in README.split("## Configuration reference", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("`"):
            rows[cells[0].replace(" ", "_")] = cells
    assert set(rows) == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        _, pulumi_key, env, profile_key, default = rows[setting.name]
        assert pulumi_key.startswith(f"`{setting.pulumi_key}`")
        assert re.findall(r"`(\w+)`", env) == list(setting.env_vars)
        if setting.profile_key:
            assert profile_key == f"`{setting.profile_key}`"
        if setting.default:
            assert default == f"`{setting.default}`"


def test_sites_table_matches_the_sites():
    for site in SITES.values():
        assert f"`{site.host}`" in README
        for region, prefix in site.prefixes.items():
            assert f"`{region}` `{prefix}`" in README


def output_tables() -> str:
    """Every README row that documents an output: `| \\`name\\` ... |`."""
    return "\n".join(line for line in README.splitlines() if line.startswith("| `"))


def test_every_output_of_every_read_resource_has_a_readme_row():
    import pulumi._types

    from ncr_provider import NcrImage, NcrImageTag, NcrRegistry

    rows = output_tables()
    for cls in (NcrImage, NcrImageTag, NcrRegistry):
        for name in pulumi._types.resource_types(cls):
            if name != "endpoint":  # an input echoed back, documented with the inputs
                assert f"`{name}`" in rows, f"{cls.__name__}.{name} has no README row"


def test_every_field_of_every_function_result_is_in_the_functions_table():
    from ncr_provider import functions

    section = README.split("## Functions:", 1)[1].split("\n## ", 1)[0]
    for fields, function in ((functions.IMAGE_FIELDS, "get_image("), (functions.TAG_FIELDS, "get_image_tag("),
                             (functions.REGISTRY_FIELDS, "get_registry(")):
        row = next(line for line in section.splitlines() if line.startswith(f"| `{function}"))
        for name, _, _ in fields:
            assert f"`{name}`" in row, f"{function} field {name} is not in the README"


def test_the_documented_cli_floor_is_the_one_the_old_cli_sentence_names():
    # the sentence, the README and .ci/run's floor step all read one number (tests/engine/test_cli_floor.py pins it)
    assert f"**Pulumi CLI {MIN_CLI_VERSION} or newer** is required" in README
    assert f"Pulumi CLI {MIN_CLI_VERSION} or newer" in OLD_CLI_SENTENCE
