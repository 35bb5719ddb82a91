"""The outbound network policy: which addresses the server may connect to for a camera (and,
with its own setting ``datahub.allowed_networks``, for a data source).

A stream URL asks the server to connect somewhere from inside its own network. Without a policy
a URL names PostgreSQL on 127.0.0.1:5432 or the cloud metadata service at 169.254.169.254 as
easily as a camera, and the monitor keeps knocking there (issue #10). So the host is resolved and
every address checked *when connecting* (probe, monitor, gateway pulls), not only when a URL is
saved: a DNS name can point elsewhere later.

The rule, from ``cameras.allowed_networks`` (default: the private ranges):

- an address must lie in one of the allowed networks;
- loopback, link-local (169.254.169.254 among them), multicast, unspecified and reserved
  addresses, and this server's own addresses, are refused even then — unless a listed network
  lies wholly inside that kind (``127.0.0.0/8`` allows loopback; ``0.0.0.0/0`` does not, and
  an own address is allowed only when listed alone, e.g. ``10.0.0.5/32``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import psutil
import requests

from dieuhanh.core.errors import InvalidInput

if TYPE_CHECKING:  # the transcode worker imports this module: it stays light (no pydantic)
    from dieuhanh.core.config import CameraSettings

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
SETTING = "cameras.allowed_networks"


# Kinds of address that are never a camera by accident.
SPECIAL: tuple[tuple[str, IPNetwork], ...] = tuple(
    (kind, ipaddress.ip_network(network))
    for kind, network in (
        ("loopback", "127.0.0.0/8"), ("loopback", "::1/128"),
        ("link-local", "169.254.0.0/16"), ("link-local", "fe80::/10"),
        ("multicast", "224.0.0.0/4"), ("multicast", "ff00::/8"),
        ("unspecified", "0.0.0.0/8"), ("unspecified", "::/128"),
        ("reserved", "240.0.0.0/4"),  # and the broadcast address
    )
)  # fmt: skip


class NetworkRefused(Exception):
    """The camera's address is outside the camera-network policy; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NetworkPolicy:
    allowed: tuple[IPNetwork, ...]
    own: frozenset[IPAddress] = frozenset()
    setting: str = SETTING  # named in refusals, so a person knows what to change

    @classmethod
    def of(
        cls,
        networks: Iterable[str],
        own: Iterable[IPAddress] | None = None,
        setting: str = SETTING,
    ) -> NetworkPolicy:
        """``own`` defaults to this host's addresses, read now."""
        allowed = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        return cls(allowed, frozenset(host_addresses() if own is None else own), setting)

    @classmethod
    def of_settings(cls, settings: CameraSettings) -> NetworkPolicy:
        return cls.of(settings.allowed_networks)

    def refusal(self, address: IPAddress) -> str | None:
        """Why the server may not connect to ``address`` for a camera, or None."""
        address = _plain(address)
        for kind, special in SPECIAL:
            if address in special:
                if self._lists_within(address, special):
                    return None
                return f"{address} is a {kind} address; {self.setting} does not allow it"
        if address in self.own and not self._lists_within(address, _single(address)):
            return f"{address} is an address of this server; {self.setting} does not allow it"
        if any(address in network for network in self.allowed):
            return None
        shown = ", ".join(str(n) for n in self.allowed[:6])
        shown += ", …" if len(self.allowed) > 6 else ""
        return f"{address} is outside {self.setting} ({shown})"

    def check(self, host: str, addresses: Sequence[IPAddress]) -> None:
        """Every address the host resolved to must be allowed: which one a client picks is not
        ours to choose, and a name mixing a camera with 127.0.0.1 is a trick, not a camera."""
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                named = "" if host == str(address) else f"{host} resolves to {address}: "
                raise NetworkRefused(named + reason)

    def _lists_within(self, address: IPAddress, kind: IPNetwork) -> bool:
        return any(
            network.version == kind.version and address in network and network.subnet_of(kind)  # type: ignore[arg-type]
            for network in self.allowed
        )


def resolve(host: str, port: int | None = None) -> list[IPAddress]:
    """The addresses a TCP connection to ``host`` may go to; raises socket.gaierror."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for info in infos:
        address = _plain(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        if address not in addresses:
            addresses.append(address)
    return addresses


def checked_address(host: str, policy: NetworkPolicy, port: int | None = None) -> IPAddress:
    """Resolve once, check, and return the address to connect to (no second lookup between the
    check and the connection). Raises socket.gaierror or NetworkRefused."""
    addresses = resolve(host, port)
    policy.check(host, addresses)
    return addresses[0]


def check_saved_host(host: str, policy: NetworkPolicy, field: str) -> None:
    """Saving a URL: refuse at once an address the monitor could never reach. A name that does
    not resolve from here passes (the probe reports it as ``dns``); the real check is at
    connect time."""
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError):
        return
    try:
        policy.check(host, addresses)
    except NetworkRefused as exc:
        raise InvalidInput(f"{field}: {exc.message}.", code="url_not_allowed") from None


def host_addresses() -> frozenset[IPAddress]:
    """This machine's own addresses, on every interface."""
    found: set[IPAddress] = set()
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    found.add(_plain(ipaddress.ip_address(entry.address.split("%", 1)[0])))
                except ValueError:
                    continue
    return frozenset(found)


# What FFmpeg may open for a camera URL. Without a whitelist, what a camera sends decides: an
# HLS playlist may name file:///etc/passwd, concat: or subfile: (issue #10).
PROTOCOL_WHITELIST = {
    "rtsp": "rtsp,rtp,udp,tcp",
    "rtsps": "rtsp,rtsps,rtp,udp,tcp,tls",
    "http": "http,https,tcp,tls,crypto",
    "https": "http,https,tcp,tls,crypto",
}


def safety_options(url: str) -> dict[str, str]:
    """FFmpeg options for every ``av.open`` of a camera URL: only network protocols, and no
    HTTP redirect (a redirect would reach an address the network policy never saw). An RTSP
    redirect or an HLS segment on another host is still followed by FFmpeg: the residual risk
    of PyAV; the gateway's own RTSP client follows none."""
    scheme = urlsplit(url).scheme.lower()
    options = {"protocol_whitelist": PROTOCOL_WHITELIST.get(scheme, "tcp")}
    if scheme.startswith("http"):
        options["max_redirects"] = "0"
    return options


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is the IPv4 address it carries."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _single(address: IPAddress) -> IPNetwork:
    return ipaddress.ip_network(address)


def post(url: str, **options: Any) -> tuple[int, bytes]:
    """``requests.post``'s status and body, the response itself not kept: urllib3 closes a
    connection only when its pool is collected, and the pool lives as long as the response.
    A response left in a frame that raises lives on in the error's traceback (a logged warning
    keeps it), and with it the connection (tests/assistant: the model's socket stayed open)."""
    response = requests.post(url, **options)
    return response.status_code, response.content
