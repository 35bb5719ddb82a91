"""A set of cameras showing every behaviour the simulator has, for the demo and manual checks."""

from __future__ import annotations

from dieuhanh.simulator.camera import SimulatedCamera

SAMPLE_USER, SAMPLE_PASSWORD = "admin", "camera123"


def sample_cameras(extra: int = 0) -> list[SimulatedCamera]:
    """One camera per behaviour, plus ``extra`` plain H.264 cameras at ``/cam/001``…"""
    cameras = [
        SimulatedCamera("/h264"),
        SimulatedCamera("/h265", codec="h265"),
        SimulatedCamera("/black", kind="black"),
        SimulatedCamera("/frozen", kind="frozen"),
        SimulatedCamera("/auth", username=SAMPLE_USER, password=SAMPLE_PASSWORD),
        SimulatedCamera("/pcmu", audio="pcmu"),
        SimulatedCamera("/aac", codec="h265", audio="aac"),
        SimulatedCamera("/stall", stall_after=5.0),
        SimulatedCamera("/audio-only", audio="pcmu", audio_only=True),
        SimulatedCamera("/proprietary", proprietary_video=True),
    ]
    cameras.extend(SimulatedCamera(f"/cam/{number:03d}") for number in range(1, extra + 1))
    return cameras
