"""Socket Mode: Slack pushes events over a websocket the bot opens, so no public URL is needed.

slack_sdk's Socket Mode client opens an aiohttp session and starts a task as soon as it is
built, so it needs a running event loop: it is built when the server starts, not with the
adapter. Bolt skips signature checks here; the app-level token authenticates the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


class _OneLine(logging.Filter):
    """The client logs each failed connection attempt with a traceback, every few seconds
    while Slack is unreachable; the message alone says what failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


log = logging.getLogger(__name__)
log.addFilter(_OneLine())
# At DEBUG the client logs every envelope it receives, message text included: never.
log.setLevel(logging.INFO)


class SocketMode:
    """Connects at start-up, in the background, and closes everything it opened at shutdown."""

    def __init__(self, app: AsyncApp, app_token: str, web_client: AsyncWebClient):
        self._app, self._token, self._web_client = app, app_token, web_client
        self._handler: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._handler = AsyncSocketModeHandler(
            self._app, self._token, logger=log, web_client=self._web_client
        )
        # In the background: an unreachable Slack must not stop the server starting; the
        # client keeps retrying and logs each failure.
        self._connecting = asyncio.create_task(self._handler.connect_async(), name="slack-socket")

    async def stop(self) -> None:
        """Close the socket and the client's session, even if a second Ctrl+C interrupts."""
        try:
            if self._connecting is not None:
                self._connecting.cancel()
                await asyncio.gather(self._connecting, return_exceptions=True)
        finally:
            if self._handler is not None:
                await self._close(self._handler)

    @staticmethod
    async def _close(handler: AsyncSocketModeHandler) -> None:
        client = handler.client
        await handler.close_async()  # closes the websocket and the client's session
        # close() only cancels its tasks; wait for them so none is left pending at exit.
        tasks = [client.message_processor, client.current_session_monitor, client.message_receiver]
        pending = [t for t in tasks if t is not None]
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)
