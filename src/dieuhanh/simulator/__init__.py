"""RTSP camera simulator: live and looped H.264/H.265 served to real clients, and dead "cameras".

Runs on what pip installs (PyAV's FFmpeg for encoding, asyncio for serving), so the demo and the
test suite need neither GStreamer nor a system ffmpeg::

    with run_simulator([SimulatedCamera("/cam1"), SimulatedCamera("/cam2", codec="h265")]) as sim:
        url = sim.url("/cam1")  # rtsp://127.0.0.1:<port>/cam1

Moving pictures are encoded live, one encoder per encoding spec whatever the number of mounts
and sessions, and carry the wall-clock time as a code (:func:`read_clock` reads it back); black
and frozen pictures are clips encoded once and looped.
"""

from dieuhanh.rtsp.nal import ParameterSets, VideoCodec
from dieuhanh.simulator.camera import PROPRIETARY_ENCODING, AudioCodec, AuthScheme, SimulatedCamera
from dieuhanh.simulator.clips import (
    Clip,
    ClipFrame,
    ClipSpec,
    default_cache_dir,
    encode_access_units,
    load_clip,
)
from dieuhanh.simulator.clock_code import read_clock
from dieuhanh.simulator.connection import ConnectionSettings
from dieuhanh.simulator.faults import (
    GarbageServer,
    HangServer,
    RefusingPort,
    refused_port,
    unresolvable_host,
)
from dieuhanh.simulator.live_encoder import LiveSpec
from dieuhanh.simulator.live_source import LiveSettings, LiveSource, LiveSourceError, LiveSources
from dieuhanh.simulator.pictures import PictureKind
from dieuhanh.simulator.runner import (
    Service,
    ServiceThread,
    SimulatorThread,
    run_service,
    run_simulator,
)
from dieuhanh.simulator.samples import sample_cameras
from dieuhanh.simulator.server import RtspServer
from dieuhanh.simulator.streaming import FlowLimits

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
