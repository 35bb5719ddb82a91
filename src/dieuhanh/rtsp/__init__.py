"""The gateway's own RTSP client: RTSP over TCP with interleaved RTP, H.264 and H.265 video.

Passthrough needs no decoding, only moving bytes; done in the event loop, one connection per
watched camera costs a socket and a few microseconds per packet — no thread, no process, no
handover of the GIL per packet (what made a PyAV thread per camera cost six times an ffmpeg).
"""
