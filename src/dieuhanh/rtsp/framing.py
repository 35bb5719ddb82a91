"""Splitting a camera's byte stream into RTSP responses and interleaved packets, without I/O.

Over TCP, RTP arrives interleaved (``$``, channel, 16-bit length, packet) between RTSP responses.
Nothing a camera sends may make this grow or spin without bound: a response head is searched
once (no rescans of a trickled head), its ``Content-Length`` is checked before it is waited for,
a packet is at most 64 KiB by its length field, stray bytes are counted and refused past
``MAX_JUNK_BYTES``, and one call of :meth:`Framer.split` handles at most one burst's worth.
"""

from __future__ import annotations

from collections.abc import Callable

from dieuhanh.rtsp.errors import protocol_error
from dieuhanh.rtsp.head import (
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    Response,
    http_error,
    looks_like_http,
    parse_head,
)

MAX_JUNK_BYTES = 64 * 1024
MAX_PACKET_BYTES = 4 + 0xFFFF
# What a framer may hold between calls: an unfinished packet, or an unfinished response.
MAX_BUFFERED_BYTES = max(MAX_PACKET_BYTES, MAX_HEAD_BYTES + 4 + MAX_BODY_BYTES)
# What one call of split() may handle: a burst beyond it waits for the next turn of the event
# loop, so one camera cannot hold up the others or the API.
BURST_BYTES = 128 * 1024
BURST_ITEMS = 512

PacketSink = Callable[[int, bytes], None]  # channel, packet
ResponseSink = Callable[[Response], None]


class Framer:
    def __init__(self, on_packet: PacketSink, on_response: ResponseSink) -> None:
        self.on_packet = on_packet
        self.on_response = on_response
        self.buffer = b""
        self.junk = 0  # bytes that were neither packets nor responses
        self.responses = 0
        self._head: tuple[Response, int, int] | None = None  # a head waiting for its body
        self._head_searched = 0  # bytes of an unfinished head already searched for its end

    def feed(self, data: bytes) -> None:
        self.buffer = self.buffer + data if self.buffer else data

    def split(self) -> bool:
        """Hand out what is complete in the buffer, up to one burst; True when complete items
        may remain (call again on the next turn). Raises ``RtspError`` for what is not RTSP."""
        buffer = self.buffer
        position, size, items, more = 0, len(buffer), 0, False
        while position < size:
            if position >= BURST_BYTES or items >= BURST_ITEMS:
                more = True
                break
            items += 1
            end = self._item(buffer, position)
            if end is None:
                break
            if end <= position:  # never backwards nor in place: a slip must not become a spin
                raise protocol_error(f"the stream made no progress at byte {position}")
            position = end
        self.buffer = buffer[position:]
        return more

    def _item(self, buffer: bytes, position: int) -> int | None:
        if buffer[position] == 0x24:  # "$": an interleaved packet
            return self._packet(buffer, position)
        if len(buffer) - position < 5:
            return None  # too little to tell a response from stray bytes
        if buffer.startswith(b"RTSP/", position):
            return self._response(buffer, position)
        if looks_like_http(buffer[position : position + 5]):
            raise http_error(buffer[position : position + 200])
        return self._junk(buffer, position)

    def _packet(self, buffer: bytes, position: int) -> int | None:
        if position + 4 > len(buffer):
            return None
        end = position + 4 + ((buffer[position + 2] << 8) | buffer[position + 3])
        if end > len(buffer):
            return None
        self.on_packet(buffer[position + 1], buffer[position + 4 : end])
        return end

    def _response(self, buffer: bytes, position: int) -> int | None:
        if self._head is None:
            searched_from = position + max(0, self._head_searched - 3)
            head_end = buffer.find(b"\r\n\r\n", searched_from, position + MAX_HEAD_BYTES + 4)
            if head_end < 0:
                self._head_searched = len(buffer) - position
                if self._head_searched > MAX_HEAD_BYTES:
                    raise protocol_error(f"an RTSP response head over {MAX_HEAD_BYTES} bytes")
                return None
            response = parse_head(buffer[position:head_end])
            self._head = response, head_end + 4 - position, response.content_length()
            self._head_searched = 0
        response, head_length, body_length = self._head
        end = position + head_length + body_length
        if end > len(buffer):
            return None  # the body is bounded by content_length(): MAX_BODY_BYTES at most
        response.body = buffer[position + head_length : end]
        self._head = None
        self.responses += 1
        self.on_response(response)
        return end

    def _junk(self, buffer: bytes, position: int) -> int:
        """Not a packet and not a response: a camera's stray bytes, or not RTSP at all."""
        found = [i for i in (buffer.find(b"$", position + 1),
                             buffer.find(b"RTSP/", position + 1)) if i >= 0]  # fmt: skip
        end = min(found) if found else len(buffer)
        self.junk += end - position
        if self.junk > MAX_JUNK_BYTES:
            raise protocol_error("the server does not speak RTSP")
        return end
