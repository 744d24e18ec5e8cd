"""The stack config a policy pack gets from the engine, where the pack looks for NCP credentials.

Older CLIs put it in the pack's environment as PULUMI_CONFIG. The CLI the engine tests run (3.274) does
not: it sends the stack config, secrets decrypted, in the Analyzer's `ConfigureStack` call, which
pulumi_policy answers but does not keep. `capture_configure_stack` wraps pulumi_policy's Analyzer
servicer so the pack keeps that config (in its own process only), and `stack_config` merges both sources.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from pulumi.runtime import get_config_env

_lock = threading.Lock()
_configured: dict[str, str] = {}


def stack_config() -> dict[str, Any]:
    """The stack config known to this pack process: PULUMI_CONFIG, then what ConfigureStack sent (which wins)."""
    with _lock:
        return {**get_config_env(), **_configured}


def remember_stack_config(config: Mapping[str, str]) -> None:
    """Keep the stack config the engine sent (replacing any earlier one)."""
    with _lock:
        _configured.clear()
        _configured.update(config)


def capture_configure_stack() -> None:
    """Make pulumi_policy's Analyzer keep the stack config of `ConfigureStack`; call before building the PolicyPack."""
    import pulumi_policy.policy as served  # the module whose servicer PolicyPack instantiates

    base = served._PolicyAnalyzerServicer
    if getattr(base, "keeps_stack_config", False):
        return

    class StackConfigServicer(base):  # type: ignore[misc, valid-type]
        """pulumi_policy's Analyzer, also keeping the stack config `ConfigureStack` carries."""

        keeps_stack_config = True

        def ConfigureStack(self, request: Any, context: Any) -> Any:  # noqa: N802 (the gRPC method's name)
            remember_stack_config(dict(request.config))
            parent = getattr(super(), "ConfigureStack", None)
            if parent is not None:
                return parent(request, context)
            from pulumi.runtime.proto import analyzer_pb2
            return analyzer_pb2.AnalyzerStackConfigureResponse()

    served._PolicyAnalyzerServicer = StackConfigServicer  # type: ignore[misc]
