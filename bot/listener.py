"""The server's listening socket, opened before anything else starts.

Binding first means a port that is taken (or an address that isn't this machine's) is one
clear line and a non-zero exit, before migrations, Slack's socket or the scheduler start
and have to be torn down again with tracebacks.
"""

from __future__ import annotations

import errno
import socket


class ListenError(Exception):
    """Why the server can't listen, in words for the person starting it."""


def listen(host: str, port: int) -> list[socket.socket]:
    """A listening socket for each address `host` names (both for "localhost", say)."""
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, address in dict.fromkeys((info[0], info[4]) for info in infos):
            sockets.append(socket.create_server(address, family=family, backlog=128))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ListenError(_why(exc, host, port)) from exc
    return sockets


def _why(exc: OSError, host: str, port: int) -> str:
    not_here = (
        f"I can't listen on {host}: it isn't an address of this computer. "
        "Check SCHOOLBOT_HOST (127.0.0.1 or 0.0.0.0 usually)."
    )
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return not_here
    if exc.errno == errno.EADDRINUSE:
        return f"Port {port} is already in use: stop the other program or set SCHOOLBOT_PORT."
    if exc.errno == errno.EACCES:
        return f"Port {port} needs administrator rights: choose one above 1024 in SCHOOLBOT_PORT."
    return f"I can't listen on {host} port {port}: {exc.strerror or exc}."
