"""Property tests for the web workspace's doors: generated paths, queries, forms, cookies
and sign-in tokens, signed in and not, never get a 5xx, never log a traceback, a marker
from the request or a token, and leave the server serving pages afterwards.

The workspace runs in a thread of its own (as tests/fakes/edge_servers.BotThread does for the
chat doors) so that Hypothesis can send it requests one example at a time.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import RedactingAccessLogger, create_app
from bot.storage import db
from bot.web.access import WebAccess
from tests.fakes.edge_servers import MARKER, assert_clean_log, trapped_log
from tests.fakes.workspace_harness import csrf_of, open_case
from tests.helpers import FakeClock, grant, make_service

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60).map(
    lambda s: s + MARKER
)
SEGMENT = st.one_of(
    st.sampled_from(["CB-0001", "cb-0001", "CB-9999", "FR-0001", "..", "%00", "%2e%2e"]),
    st.from_regex(r"[A-Za-z0-9_\-.~%]{0,40}", fullmatch=True),
)
ACTIONS = st.sampled_from(["acknowledge", "assign", "note", "close", "delete", "", "x" * 300])


class WorkspaceThread:
    """Our real app with the workspace on, served from its own event loop."""

    def __init__(self, tmp_path: Path):
        url = f"sqlite:///{tmp_path / 'fuzz.db'}"
        db.upgrade(url)
        self.service = make_service(
            url, "default", FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC)), tmp_path / "ev"
        )
        grant(self.service, "dsl1", "dsl")
        self.service.outbox.web = WebAccess(self.service.kernel, "http://127.0.0.1")
        self.ref = open_case(self.service)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        server = TestServer(create_app(self.service))
        await server.start_server(access_log_class=RedactingAccessLogger)
        self.base = str(server.make_url("")).rstrip("/")
        assert self.service.outbox.web is not None
        self.service.outbox.web.public_url = self.base
        self.loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await server.close()

    def start(self) -> WorkspaceThread:
        self._thread.start()
        assert self._ready.wait(30), "the workspace did not start"
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def signed_in(self) -> tuple[requests.Session, str]:
        assert self.service.outbox.web is not None
        browser = requests.Session()
        link = self.service.outbox.web.issue_link(
            "console", "dsl1", "Mr Patel", f"/web/cases/{self.ref}"
        )
        page = browser.get(link, timeout=10)
        assert page.status_code == 200
        return browser, csrf_of(page.text)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Iterator[WorkspaceThread]:
    running = WorkspaceThread(tmp_path_factory.mktemp("fuzz-web")).start()
    yield running
    running.stop()


def _check(response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text


def _healthy(workspace: WorkspaceThread) -> None:
    browser, _ = workspace.signed_in()
    page = browser.get(f"{workspace.base}/web/cases/{workspace.ref}", timeout=10)
    assert page.status_code == 200 and workspace.ref in page.text


@EXAMPLES
@given(segments=st.lists(SEGMENT, max_size=4), query=st.dictionaries(TEXT, TEXT, max_size=3))
def test_fuzz_workspace_pages_with_any_path_or_query(workspace, segments, query):
    browser, _ = workspace.signed_in()
    with trapped_log() as records:
        for prefix in ("/web/", "/web/cases/", f"/web/cases/{workspace.ref}/evidence/"):
            _check(
                browser.get(workspace.base + prefix + "/".join(segments), params=query, timeout=10)
            )
        _check(requests.get(workspace.base + "/web/cases/" + "/".join(segments), timeout=10))
    assert_clean_log(records)


@EXAMPLES
@given(
    action=ACTIONS,
    form=st.dictionaries(st.sampled_from(["text", "message", "csrf", "other", MARKER]), TEXT),
    real_token=st.booleans(),
    as_json=st.booleans(),
)
def test_fuzz_workspace_forms_of_any_shape(workspace, action, form, real_token, as_json):
    browser, csrf = workspace.signed_in()
    if real_token:
        form = {**form, "csrf": csrf}
    url = f"{workspace.base}/web/cases/{workspace.ref}/{action}"
    with trapped_log() as records:
        if as_json:
            _check(browser.post(url, json=form, timeout=10))
        else:
            _check(browser.post(url, data=form, timeout=10))
        _check(browser.post(f"{workspace.base}/web/sign-out", data=form, timeout=10))
    assert_clean_log(records, "Mr Patel")


@EXAMPLES
@given(
    token=st.text(max_size=300),
    cookie=st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=200),
)
def test_fuzz_workspace_sign_in_tokens_and_cookies(workspace, token, cookie):
    with trapped_log() as records:
        quoted = requests.utils.quote(token, safe="")
        _check(requests.get(f"{workspace.base}/web/sign-in/{quoted}", timeout=10))
        jar = {"schoolbot_session": re.sub(r"[;,\\\"\x7f]", "", cookie)}
        _check(requests.get(f"{workspace.base}/web/", cookies=jar, timeout=10))
    assert_clean_log(records)
    if len(quoted) >= 16:  # long enough to be told apart from a log line's own words
        for record in records:
            assert quoted not in record.getMessage()


def test_fuzz_workspace_still_serves_after_the_examples(workspace):
    _healthy(workspace)
