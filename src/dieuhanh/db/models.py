"""Imports every capability's models so the metadata is complete (for migrations and tests)."""

from dieuhanh import events
from dieuhanh.audit import models as audit_models
from dieuhanh.auth import models as auth_models
from dieuhanh.cameras import models as camera_models
from dieuhanh.core.jobs import models as job_models
from dieuhanh.db import meta
from dieuhanh.db.base import Base
from dieuhanh.gateway import models as gateway_models
from dieuhanh.gis import models as gis_models
from dieuhanh.indicators import models as indicator_models
from dieuhanh.reporting import models as reporting_models
from dieuhanh.units import models as unit_models

__all__ = [
    "Base",
    "audit_models",
    "auth_models",
    "camera_models",
    "events",
    "gateway_models",
    "gis_models",
    "indicator_models",
    "job_models",
    "meta",
    "reporting_models",
    "unit_models",
]
