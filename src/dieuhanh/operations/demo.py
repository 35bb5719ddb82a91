"""The operations view in `dieuhanh demo`: nothing of its own to set up — the other
capabilities' demo parts fill its layers (simulated cameras, citizen reports, alerts,
directives, sensors, two years of figures); it only says where to look."""

from __future__ import annotations

from dieuhanh.core.capability import DemoPart
from dieuhanh.core.runtime import Runtime

BANNER = "Điều hành (màn hình chính): /operations"


def start(runtime: Runtime) -> DemoPart:
    del runtime  # every layer is filled by the capability that owns it
    return DemoPart(banner=[BANNER])
