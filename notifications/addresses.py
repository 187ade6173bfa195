"""Where a webhook may post: public internet addresses only (staff set the URL).

Contract:

- A webhook URL is ``http`` or ``https`` with a host. The host is resolved and **every**
  address it resolves to must be public: loopback, private (RFC 1918), link-local (and the
  cloud metadata address 169.254.169.254), unique-local IPv6 (fc00::/7, e.g.
  fd00:ec2::254), CGNAT (100.64.0.0/10, e.g. 100.100.100.200), multicast, broadcast,
  unspecified, documentation and reserved ranges are refused, for IPv4 and IPv6. An IPv6
  address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``,
  6to4 ``2002::/16``) is judged by that IPv4 address.
- Hosts listed in the ``WEBHOOK_ALLOWED_HOSTS`` setting (names or IP literals, compared
  case-insensitively) are exempt, e.g. a receiver on the same machine.
- The check runs when staff save the URL (a form error) **and** before every send: DNS may
  answer differently by then. The send connects to the address that was checked, not to a
  second resolution of the name (see `notifications.channels`), and follows no redirect.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Refused whatever Python's `is_global` says (it differs between Python releases).
BLOCKED = tuple(ipaddress.ip_network(net) for net in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10",
    "fec0::/10", "ff00::/8",
))
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(Exception):
    """A webhook URL that may not be posted to; `str()` is the reason, for staff."""


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to `address`, send `host` (for Host and TLS)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether a webhook may connect to `address` (an IP literal)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id names a link
    inner = embedded_ipv4(ip)
    if inner is not None:
        return is_public(str(inner))
    if any(ip in net for net in BLOCKED if net.version == ip.version):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private)


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (IPv4 and IPv6), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def allowed_hosts() -> set[str]:
    return {h.strip().lower().strip("[]") for h in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])
            if h.strip()}


def check_url(url: str) -> Target:
    """The URL's target if a webhook may post to it, else `UnsafeURL` with the reason."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeURL(_("A webhook URL must start with http:// or https:// and name a host."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL(_("The webhook URL has an invalid port.")) from None
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise UnsafeURL(_("The webhook host “%(host)s” cannot be resolved.") % {"host": host})
    if host not in allowed_hosts():
        for address in addresses:
            if not is_public(address):
                raise UnsafeURL(_(
                    "The webhook host “%(host)s” is an internal address (%(address)s): "
                    "webhooks may only post to public internet addresses."
                ) % {"host": host, "address": address})
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])
