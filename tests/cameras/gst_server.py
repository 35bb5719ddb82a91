"""A real RTSP camera for the tests: GStreamer's RTSP server with one mount per kind of stream.

Run by Debian's ``/usr/bin/python3``: the GObject bindings (``gi``, package ``python3-gi``) exist
only for that interpreter, so this script uses the standard library and ``gi`` alone and never
imports ``dieuhanh``. ``tests/cameras/servers.py`` starts it as a subprocess.

Mounts (every factory is shared, so any number of clients cost one encoder per mount):

    /h264        moving ball on a coloured background, H.264 (x264, no B-frames)
    /h265        the same picture, H.265 Main profile
    /h264-audio  /h264 plus a G.711 µ-law audio track
    /h264-slices /h264 cut into four slices per frame, as many cameras send it
    /black       an all-black picture, H.264
    /frozen      a static, colourful picture (SMPTE colour bars), H.264
    /secure      /h264 behind RTSP Basic authentication (--username/--password)
    /vp8         VP8: a real codec the product does not support
    /audio-only  G.711 µ-law audio and no video track
    /clock       H.264 with the wall-clock time burnt in as a binary code (see ``time_code_frame``)

When listening it prints ``READY <port>`` on stdout; SIGTERM or SIGINT stops it with status 0.
``--check`` only verifies that every GStreamer element is installed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer
except (ImportError, ValueError) as error:
    sys.exit(
        f"gst_server.py: {error}. Install the Debian packages python3-gi and "
        "gir1.2-gst-rtsp-server-1.0 and run this script with /usr/bin/python3."
    )

# Element -> Debian package, so a missing plugin is reported as the package to install.
ELEMENT_PACKAGES = {
    "appsrc": "gstreamer1.0-plugins-base",
    "audiotestsrc": "gstreamer1.0-plugins-base",
    "videotestsrc": "gstreamer1.0-plugins-base",
    "mulawenc": "gstreamer1.0-plugins-good",
    "rtph264pay": "gstreamer1.0-plugins-good",
    "rtph265pay": "gstreamer1.0-plugins-good",
    "rtppcmupay": "gstreamer1.0-plugins-good",
    "rtpvp8pay": "gstreamer1.0-plugins-good",
    "vp8enc": "gstreamer1.0-plugins-good",
    "x265enc": "gstreamer1.0-plugins-bad",
    "x264enc": "gstreamer1.0-plugins-ugly",
}
# videotestsrc's ball pattern defaults to a black background, which trips black detection.
BACKGROUND_ARGB = 0xFF1F6F8B
USER_ROLE = "user"
ANONYMOUS_ROLE = "anonymous"
# The /clock code: CODE_COLUMNS cells per row, CODE_ROWS rows of 48 time bits then a sync row.
CODE_COLUMNS = 16
TIME_BITS = 48
CODE_ROWS = TIME_BITS // CODE_COLUMNS + 1
SYNC_BITS = [1, 0] * (CODE_COLUMNS // 2)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 lets the kernel pick a free port")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--gop-seconds", type=float, default=1.0, help="keyframe interval")
    parser.add_argument("--username", default="operator")
    parser.add_argument("--password", default="cam-secret-42")
    parser.add_argument("--check", action="store_true", help="only check the elements exist")
    args = parser.parse_args(argv)
    if args.width % 2 or args.height % 2 or args.width < 2 * CODE_COLUMNS:
        parser.error("--width and --height must be even, --width at least 32 (I420 and /clock)")
    if args.height < CODE_ROWS * (args.width // CODE_COLUMNS):
        parser.error("--height is too small for the /clock code; keep about 16:9 or taller")
    if args.fps < 1 or args.gop_seconds <= 0:
        parser.error("--fps and --gop-seconds must be positive")
    return args


def missing_elements() -> list[str]:
    return [
        f"{element} ({package})"
        for element, package in ELEMENT_PACKAGES.items()
        if Gst.ElementFactory.find(element) is None
    ]


# --- pipeline descriptions -------------------------------------------------------------------


def raw_caps(args: argparse.Namespace) -> str:
    # I420 everywhere: without it x265enc picks a 4:4:4 input and emits the Rext profile.
    return f"video/x-raw,format=I420,width={args.width},height={args.height},framerate={args.fps}/1"


def pattern_source(args: argparse.Namespace, pattern: str) -> str:
    # background-color also repaints pattern=black, so it is given to the ball alone.
    colour = f" background-color={BACKGROUND_ARGB}" if pattern == "ball" else ""
    # A shared media restarts its pipeline for a client arriving after the last one left: with
    # the default frame-counted animation the ball would start from the same place each time,
    # so successive probes would see the same picture. Wall-clock animation moves on.
    if pattern == "ball":
        colour += " animation-mode=wall-time"
    return f"videotestsrc is-live=true pattern={pattern}{colour} ! {raw_caps(args)}"


def keyframe_interval(args: argparse.Namespace) -> int:
    return max(1, round(args.fps * args.gop_seconds))


def h264(args: argparse.Namespace, pay: str = "pay0", slices: int = 1) -> str:
    # zerolatency already disables B-frames; bframes=0 states it for readers of this line.
    # threads=1: zerolatency's sliced threads would cut each frame into one slice per core, so
    # the stream would differ between machines; multi-slice streams get their own mount.
    return (
        "x264enc tune=zerolatency speed-preset=ultrafast bframes=0 threads=1 "
        f"key-int-max={keyframe_interval(args)} option-string=slices={slices} "
        f"! rtph264pay name={pay} pt=96 config-interval=-1"
    )


def h265(args: argparse.Namespace) -> str:
    return (
        f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={keyframe_interval(args)} "
        "! rtph265pay name=pay0 pt=96 config-interval=-1"
    )


def vp8(args: argparse.Namespace) -> str:
    return (
        f"vp8enc deadline=1 keyframe-max-dist={keyframe_interval(args)} ! rtpvp8pay name=pay0 pt=96"
    )


def mulaw(pay: str) -> str:
    # 8 kHz mono in 20 ms packets, as G.711 cameras send it.
    return (
        "audiotestsrc is-live=true wave=sine freq=440 samplesperbuffer=160 "
        "! audio/x-raw,rate=8000,channels=1 ! mulawenc "
        f"! rtppcmupay name={pay} pt=0"
    )


def clock_source(args: argparse.Namespace) -> str:
    return f"appsrc name=clock is-live=true do-timestamp=true format=time caps={raw_caps(args)}"


def pipelines(args: argparse.Namespace) -> dict[str, str]:
    ball = pattern_source(args, "ball")
    return {
        "/h264": f"{ball} ! {h264(args)}",
        "/h265": f"{ball} ! {h265(args)}",
        "/h264-audio": f"{ball} ! {h264(args)} {mulaw('pay1')}",
        "/h264-slices": f"{ball} ! {h264(args, slices=4)}",
        "/black": f"{pattern_source(args, 'black')} ! {h264(args)}",
        # smpte100, not smpte: the smpte pattern has a patch of random noise in one corner.
        "/frozen": f"{pattern_source(args, 'smpte100')} ! {h264(args)}",
        "/secure": f"{ball} ! {h264(args)}",
        "/vp8": f"{ball} ! {vp8(args)}",
        "/audio-only": mulaw("pay0"),
        "/clock": f"{clock_source(args)} ! {h264(args)}",
    }


# --- the /clock picture ----------------------------------------------------------------------


def time_code_frame(background: bytes, width: int, millis: int) -> bytes:
    """Draws ``millis`` (Unix time in ms) into the top of an I420 frame as black/white cells.

    A binary code rather than text: a test or a browser reads it back from the decoded picture
    without OCR. Cells are ``width // 16`` pixels square, 16 per row, most significant bit first,
    48 time bits in three rows, then a fourth row 1010… that tells a reader the code is there.
    """
    frame = bytearray(background)
    cell = width // CODE_COLUMNS
    bits = [(millis >> (TIME_BITS - 1 - i)) & 1 for i in range(TIME_BITS)] + SYNC_BITS
    for index, bit in enumerate(bits):
        row = bytes([235 if bit else 16]) * cell  # video-range white and black luma
        left = (index % CODE_COLUMNS) * cell
        top = (index // CODE_COLUMNS) * cell
        for y in range(top, top + cell):
            frame[y * width + left : y * width + left + cell] = row
    return bytes(frame)


def clock_background(width: int, height: int) -> bytes:
    # Teal picture; the code band gets neutral chroma so its cells are plain black and white.
    band = CODE_ROWS * (width // CODE_COLUMNS) // 2
    chroma_width, chroma_height = width // 2, height // 2
    neutral = bytes([128]) * (chroma_width * band)
    below = chroma_width * (chroma_height - band)
    return (
        bytes([110]) * (width * height)
        + neutral
        + bytes([150]) * below
        + neutral
        + bytes([90]) * below
    )


def feed_clock(args: argparse.Namespace, media: GstRtspServer.RTSPMedia) -> None:
    """Pushes one time-coded frame per 1/fps into the media's appsrc while the media lives."""
    appsrc = media.get_element().get_by_name("clock")
    background = clock_background(args.width, args.height)

    def push() -> bool:
        frame = time_code_frame(background, args.width, round(time.time() * 1000))
        # Before the pipeline starts, appsrc answers FLUSHING and drops the frame: harmless.
        appsrc.emit("push-buffer", Gst.Buffer.new_wrapped(frame))
        return GLib.SOURCE_CONTINUE

    timer = GLib.timeout_add(max(1, round(1000 / args.fps)), push)
    media.connect("unprepared", lambda _media: GLib.source_remove(timer))


# --- the server ------------------------------------------------------------------------------


def permissions(*, anonymous: bool) -> GstRtspServer.RTSPPermissions:
    # GstRTSPAuth answers 404 to a role that may not *access* a factory and 401 (with a Basic
    # challenge) to one that may access but not *construct* it. Cameras answer 401, so anonymous
    # clients always get access and only the public mounts let them construct.
    granted = GstRtspServer.RTSPPermissions()
    access = GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS
    construct = GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT
    granted.add_permission_for_role(USER_ROLE, access, True)
    granted.add_permission_for_role(USER_ROLE, construct, True)
    granted.add_permission_for_role(ANONYMOUS_ROLE, access, True)
    granted.add_permission_for_role(ANONYMOUS_ROLE, construct, anonymous)
    return granted


def role_token(role: str) -> GstRtspServer.RTSPToken:
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, role)
    return token


def basic_auth(args: argparse.Namespace) -> GstRtspServer.RTSPAuth:
    # Once a server has an auth object every factory is checked, so clients without
    # credentials get an "anonymous" token that the public mounts allow and /secure does not.
    auth = GstRtspServer.RTSPAuth()
    auth.set_default_token(role_token(ANONYMOUS_ROLE))
    basic = GstRtspServer.RTSPAuth.make_basic(args.username, args.password)
    auth.add_basic(basic, role_token(USER_ROLE))
    return auth


def media_factory(
    launch: str, on_configure: Callable[[GstRtspServer.RTSPMedia], None] | None = None
) -> GstRtspServer.RTSPMediaFactory:
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f"( {launch} )")
    factory.set_shared(True)
    if on_configure is not None:
        factory.connect("media-configure", lambda _factory, media: on_configure(media))
    return factory


def build_server(args: argparse.Namespace) -> GstRtspServer.RTSPServer:
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    # Service "0" makes GLib bind an ephemeral port, read back with get_bound_port(): no race
    # between choosing a free port and binding it.
    server.set_service(str(args.port))
    server.set_auth(basic_auth(args))
    mounts = server.get_mount_points()
    for path, launch in pipelines(args).items():
        configure = (lambda media: feed_clock(args, media)) if path == "/clock" else None
        factory = media_factory(launch, configure)
        factory.set_permissions(permissions(anonymous=path != "/secure"))
        mounts.add_factory(path, factory)
    return server


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    Gst.init(None)
    missing = missing_elements()
    if missing:
        print("missing GStreamer elements: " + ", ".join(missing), file=sys.stderr)
        return 1
    if args.check:
        print(f"{Gst.version_string()}: all {len(ELEMENT_PACKAGES)} elements present")
        return 0
    server = build_server(args)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
