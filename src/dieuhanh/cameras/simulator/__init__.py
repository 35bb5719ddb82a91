"""RTSP camera simulator: live and looped H.264/H.265 served to real clients, and dead "cameras".

Runs on what pip installs (PyAV's FFmpeg for encoding, asyncio for serving), so the demo and the
test suite need neither GStreamer nor a system ffmpeg::

    with run_simulator([SimulatedCamera("/cam1"), SimulatedCamera("/cam2", codec="h265")]) as sim:
        url = sim.url("/cam1")  # rtsp://127.0.0.1:<port>/cam1

Moving pictures are encoded live, one encoder per encoding spec whatever the number of mounts
and sessions, and carry the wall-clock time as a code (:func:`read_clock` reads it back); black
and frozen pictures are clips encoded once and looped.
"""

from dieuhanh.cameras.simulator.annexb import ParameterSets, VideoCodec
from dieuhanh.cameras.simulator.camera import (
    PROPRIETARY_ENCODING,
    AudioCodec,
    AuthScheme,
    SimulatedCamera,
)
from dieuhanh.cameras.simulator.clips import (
    Clip,
    ClipFrame,
    ClipSpec,
    default_cache_dir,
    encode_access_units,
    load_clip,
)
from dieuhanh.cameras.simulator.clock_code import read_clock
from dieuhanh.cameras.simulator.connection import ConnectionSettings
from dieuhanh.cameras.simulator.faults import (
    GarbageServer,
    HangServer,
    RefusingPort,
    refused_port,
    unresolvable_host,
)
from dieuhanh.cameras.simulator.live_encoder import LiveSpec
from dieuhanh.cameras.simulator.live_source import (
    LiveSettings,
    LiveSource,
    LiveSourceError,
    LiveSources,
)
from dieuhanh.cameras.simulator.pictures import PictureKind
from dieuhanh.cameras.simulator.runner import (
    Service,
    ServiceThread,
    SimulatorThread,
    run_service,
    run_simulator,
)
from dieuhanh.cameras.simulator.samples import sample_cameras
from dieuhanh.cameras.simulator.server import RtspServer
from dieuhanh.cameras.simulator.streaming import FlowLimits

__all__ = [
    "PROPRIETARY_ENCODING",
    "AudioCodec",
    "AuthScheme",
    "Clip",
    "ClipFrame",
    "ClipSpec",
    "ConnectionSettings",
    "FlowLimits",
    "GarbageServer",
    "HangServer",
    "LiveSettings",
    "LiveSource",
    "LiveSourceError",
    "LiveSources",
    "LiveSpec",
    "ParameterSets",
    "PictureKind",
    "RefusingPort",
    "RtspServer",
    "Service",
    "ServiceThread",
    "SimulatedCamera",
    "SimulatorThread",
    "VideoCodec",
    "default_cache_dir",
    "encode_access_units",
    "load_clip",
    "read_clock",
    "refused_port",
    "run_service",
    "run_simulator",
    "sample_cameras",
    "unresolvable_host",
]
