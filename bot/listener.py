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


def listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=128)
    except socket.gaierror as exc:
        raise ListenError(
            f"I can't listen on {host}: it isn't an address of this computer. "
            "Check SCHOOLBOT_HOST (127.0.0.1 or 0.0.0.0 usually)."
        ) from exc
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(
                f"Port {port} is already in use: stop the other program or set SCHOOLBOT_PORT."
            ) from exc
        if exc.errno == errno.EACCES:
            raise ListenError(
                f"Port {port} needs administrator rights: choose one above 1024 in SCHOOLBOT_PORT."
            ) from exc
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ListenError(
                f"I can't listen on {host}: it isn't an address of this computer. "
                "Check SCHOOLBOT_HOST (127.0.0.1 or 0.0.0.0 usually)."
            ) from exc
        raise
