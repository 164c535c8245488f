"""Which host names and addresses stay on this machine."""

from __future__ import annotations

import ipaddress
import socket

from multichat.errors import UserError, bind_error_text

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name, an IPv4/IPv6 address, or ``[v6]``) is only reachable locally.

    ``localhost`` counts; other names do not, since DNS may send them anywhere.
    """
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """``host`` as it appears in a URL or a Host header (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def loopback_origins(host: str, port: int) -> tuple[list[str], list[str]]:
    """The Host headers and Origins a server on loopback ``host:port`` accepts."""
    names = [*LOOPBACK_NAMES, host] if host not in LOOPBACK_NAMES else list(LOOPBACK_NAMES)
    hosts: list[str] = []
    for name in names:
        shown = url_host(name)
        hosts.append(f"{shown}:{port}")
        if port == 80:
            hosts.append(shown)
    return hosts, [f"http://{value}" for value in hosts]


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` for the HTTP server; port 0 lets the system choose.

    Bound before the server starts, so that everything that names the address (the Host-header
    check, the token notice, the URL line) uses the real port.

    Raises:
        UserError: the address cannot be bound (in use, not this machine's, no permission).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:  # a name that does not resolve
        raise UserError(
            f"cannot listen on {url_host(host)}:{port}: {exc.strerror or exc}; give --host an "
            "address of this machine"
        ) from None
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise UserError(
            f"cannot listen on {url_host(host)}:{port}: {bind_error_text(exc, port)}"
        ) from None
    return listener
