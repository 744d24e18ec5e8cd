"""The engine tier: the real Pulumi CLI, when there is one; a skip that says how to get one when not.

With NCR_REQUIRE_ENGINE=1 (set by .ci/run on a machine with Go, where it builds the CLI first) a skipped
engine test is reported as a failure instead, so the tier can never silently stop running in CI.
"""

from __future__ import annotations

import os

import pytest

from .harness import find_engine_bin

REQUIRE_ENGINE = os.environ.get("NCR_REQUIRE_ENGINE") == "1"
ENGINE_BIN = find_engine_bin()  # resolved at import: the tests' fixtures replace HOME
HOW_TO_ENABLE = ("the Pulumi CLI was not found: install it normally (https://www.pulumi.com/docs/install/), "
                 "or build it from source with `eval \"$(scripts/pulumi-engine.sh)\"` (needs Go), then run "
                 "`pytest -m engine`")


@pytest.fixture(scope="session")
def engine_bin():
    """The folder of the `pulumi` these tests run."""
    if ENGINE_BIN is None:
        pytest.skip(HOW_TO_ENABLE)
    return ENGINE_BIN


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Where the engine is required, an engine test that skipped (for whatever reason) fails instead."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ENGINE and report.skipped and item.get_closest_marker("engine") is not None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"NCR_REQUIRE_ENGINE=1 but this engine test was skipped ({reason}): "
                           "CI must run the engine tier on a machine with Go (see scripts/pulumi-engine.sh)")
