"""The product: the kernel plus this list of capabilities, in the order their routes are tried.

Adding a capability: its folder with a ``capability.py`` exposing ``CAPABILITY``, and one line
here. Extra capabilities (a province's own) can be added without editing this file through the
``plugins`` setting: dotted module names whose ``CAPABILITY`` is appended to the list.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import MetaData

from dieuhanh.alerts.capability import CAPABILITY as ALERTS
from dieuhanh.assistant.capability import CAPABILITY as ASSISTANT
from dieuhanh.audit.capability import CAPABILITY as AUDIT
from dieuhanh.auth.capability import CAPABILITY as AUTH
from dieuhanh.cameras.capability import CAPABILITY as CAMERAS
from dieuhanh.citizen.capability import CAPABILITY as CITIZEN
from dieuhanh.core.capability import Capability, check_unique
from dieuhanh.core.config import Settings
from dieuhanh.core.db.base import Base
from dieuhanh.core.events import Subscription
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.runtime import build_runtime as build_kernel_runtime
from dieuhanh.datahub.capability import CAPABILITY as DATAHUB
from dieuhanh.gateway.capability import CAPABILITY as GATEWAY
from dieuhanh.gis.capability import CAPABILITY as GIS
from dieuhanh.indicators.capability import CAPABILITY as INDICATORS
from dieuhanh.operations.capability import CAPABILITY as OPERATIONS
from dieuhanh.system.capability import CAPABILITY as SYSTEM
from dieuhanh.units.capability import CAPABILITY as UNITS

CAPABILITIES: tuple[Capability, ...] = (
    AUTH,
    UNITS,
    GIS,
    CAMERAS,
    GATEWAY,
    AUDIT,
    SYSTEM,
    INDICATORS,
    DATAHUB,
    CITIZEN,
    ALERTS,
    OPERATIONS,
    ASSISTANT,
)


def enabled_capabilities(settings: Settings) -> tuple[Capability, ...]:
    """The shipped list, then the configured plugins."""
    plugins = tuple(_load_plugin(name) for name in settings.plugins)
    capabilities = CAPABILITIES + plugins
    check_unique(capabilities)
    return capabilities


def _load_plugin(module_name: str) -> Capability:
    module = importlib.import_module(module_name)
    capability = getattr(module, "CAPABILITY", None)
    if not isinstance(capability, Capability):
        raise ValueError(f"plugins: {module_name} has no CAPABILITY manifest")
    return capability


def subscriptions(runtime: Runtime) -> list[Subscription]:
    """Every capability's event subscribers."""
    return [
        subscription
        for capability in runtime.capabilities
        if capability.subscriptions is not None
        for subscription in capability.subscriptions(runtime)
    ]


def build_runtime(settings: Settings, **options: Any) -> Runtime:
    """A runtime with every enabled capability's hooks (the audit recorder among them)."""
    capabilities: Sequence[Capability] = options.pop("capabilities", None) or (
        enabled_capabilities(settings)
    )
    return build_kernel_runtime(settings, capabilities=capabilities, **options)


def metadata(capabilities: Sequence[Capability] = CAPABILITIES) -> MetaData:
    """Every table of these capabilities: their manifests import their model modules."""
    assert all(module.__name__ for capability in capabilities for module in capability.models)
    return Base.metadata
