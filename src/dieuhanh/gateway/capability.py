"""The gateway capability: a media engine (RTSP in, fMP4/HLS out, transcoding) and its nodes.

It knows no cameras: whoever embeds it (the cameras capability) gives it source URLs.
"""

from __future__ import annotations

from dieuhanh.core.capability import Capability
from dieuhanh.gateway import models

CAPABILITY = Capability(
    name="gateway",
    package="dieuhanh.gateway",
    title="Stream gateway",
    models=(models,),
)
