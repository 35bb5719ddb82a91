"""The server's mount table: which camera answers at which URL path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dieuhanh.simulator.auth import Authenticator
from dieuhanh.simulator.camera import SimulatedCamera
from dieuhanh.simulator.media import LiveTrack, MediaLibrary, MediaTrack


@dataclass(frozen=True)
class Mount:
    camera: SimulatedCamera
    tracks: tuple[MediaTrack, ...]
    authenticator: Authenticator | None

    async def prepare(self) -> None:
        """Starts the live sources of this mount, if any, and waits for their parameter sets.

        Raises ``LiveSourceError`` when an encoder does not start in time.
        """
        for track in self.tracks:
            if isinstance(track, LiveTrack):
                await track.source.ready()

    def track_index(self, rest: str) -> int | None:
        """Which track a SETUP URL names: ``trackID=N``, or the only track for the bare URL."""
        if not rest:
            return 0 if len(self.tracks) == 1 else None
        name, _, number = rest.partition("=")
        if name.lower() != "trackid" or not number.isdigit():
            return None
        index = int(number)
        return index if index < len(self.tracks) else None


class MountTable:
    def __init__(self, cameras: Iterable[SimulatedCamera], library: MediaLibrary) -> None:
        nonce = Authenticator.new_nonce()
        self._mounts: dict[str, Mount] = {}
        for camera in cameras:
            if camera.path in self._mounts:
                raise ValueError(f"two cameras are mounted at {camera.path}")
            authenticator = None
            if camera.username is not None and camera.password is not None:
                authenticator = Authenticator(camera.username, camera.password, camera.auth, nonce)
            self._mounts[camera.path] = Mount(camera, library.tracks_for(camera), authenticator)

    def __iter__(self) -> Iterator[Mount]:
        return iter(self._mounts.values())

    def get(self, path: str) -> Mount | None:
        return self._mounts.get(path)

    def resolve(self, path: str) -> tuple[Mount, str] | None:
        """The mount whose path is the longest prefix of ``path``, and what follows it."""
        candidate = path.rstrip("/")
        rest: list[str] = []
        while candidate:
            mount = self._mounts.get(candidate)
            if mount is not None:
                return mount, "/".join(reversed(rest))
            candidate, _, last = candidate.rpartition("/")
            rest.append(last)
        return None
