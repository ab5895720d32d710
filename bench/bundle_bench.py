"""Bundle bench: many people download a case bundle at once, the zip built whole in
memory (as before issue 23) and streamed as it is made (now), side by side in one run.

Each row is a fresh server process on loopback (our real app, the workspace on, SQLite)
with one case holding `--files` evidence files of `--mb` MB each (random bytes, so they
don't compress), and `concurrency` signed-in clients each downloading the bundle at once.
The server's peak RSS (VmHWM) is read from /proc when they are done; every zip is checked
against its manifest. Nothing leaves the machine.

Run from the repo root:  .venv/bin/python bench/bundle_bench.py  [--concurrency 50,200]
                         [--files 4] [--mb 2]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODES = {"whole": "built whole in memory (before)", "stream": "streamed (now)"}


async def _serve(mode: str, files: int, megabytes: int, clients: int) -> None:
    """The server process: prints its address and the clients' cookies, then serves."""
    from aiohttp.test_utils import TestServer

    from bot import app as app_module
    from bot.storage import db
    from bot.web import routes
    from bot.web.access import WebAccess
    from bot.web.bundle import build_bundle
    from bot.web.common import COOKIE, record_event, team_case
    from tests.fakes.workspace_harness import open_case
    from tests.helpers import FakeClock, grant, make_service

    async def whole_bundle(request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        """The handler as it was: the zip's bytes made first, then sent in one body."""
        found = await team_case(request)
        if isinstance(found, aiohttp.web.Response):
            return found
        visitor, kernel, case = found
        record = await kernel.work.run(record_event, kernel, visitor, case, "bundle.downloaded")
        data = await asyncio.to_thread(build_bundle, kernel, record)
        return aiohttp.web.Response(body=data, content_type="application/zip")

    if mode == "whole":
        routes.bundle = whole_bundle  # type: ignore[assignment]
    folder = Path(tempfile.mkdtemp(prefix="bundle-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    db.upgrade(url)
    clock = FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    service = make_service(url, "default", clock, folder / "evidence")
    grant(service, "dsl1", "dsl")
    access = WebAccess(service.kernel, "http://127.0.0.1")
    service.outbox.web = access
    ref = open_case(service)
    _add_files(service, ref, files, megabytes)
    server = TestServer(app_module.create_app(service))
    await server.start_server(access_log=None)
    base = str(server.make_url("")).rstrip("/")
    cookies = []
    for _ in range(clients):
        link = access.issue_link("console", "dsl1", "Mr Patel")
        redeemed = access.redeem(link.rsplit("/", 1)[1])
        assert redeemed is not None
        cookies.append(redeemed[0])
    print(base, ref, COOKIE, " ".join(cookies), flush=True)
    await asyncio.Event().wait()


def _add_files(service, ref: str, files: int, megabytes: int) -> None:
    from bot.storage import repository as repo
    from bot.storage.tables import Evidence

    kernel = service.kernel
    with kernel.session() as session:
        case = repo.case_by_ref(session, ref)
        for number in range(files):
            data = os.urandom(megabytes * 1024 * 1024)
            kept = kernel.store_evidence(f"clip-{number}.mp4", "video/mp4", data)
            session.add(Evidence(case_id=case.id, filename=kept.filename,
                                 content_type=kept.content_type, size=kept.size,
                                 sha256=kept.sha256, uploaded_by="console:dan",
                                 uploaded_at=kernel.now()))  # fmt: skip
        session.commit()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _check(data: bytes) -> None:
    archive = zipfile.ZipFile(io.BytesIO(data))
    for line in archive.read("MANIFEST.sha256").decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name


async def _download_all(base: str, ref: str, cookie: str, tokens: list[str]) -> float:
    async def one(token: str) -> None:
        async with (
            aiohttp.ClientSession(cookies={cookie: token}) as http,
            http.get(f"{base}/web/cases/{ref}/bundle.zip") as response,
        ):
            assert response.status == 200, response.status
            _check(await response.read())

    started = time.monotonic()
    await asyncio.gather(*(one(token) for token in tokens))
    return time.monotonic() - started


def run_row(mode: str, clients: int, files: int, megabytes: int) -> tuple[float, float]:
    """(wall seconds, server peak RSS in MB) for one mode and number of clients."""
    command = [sys.executable, __file__, "--serve", mode, "--clients", str(clients)]
    command += ["--files", str(files), "--mb", str(megabytes)]
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        base, ref, cookie, tokens = child.stdout.readline().split(" ", 3)
        wall = asyncio.run(_download_all(base, ref, cookie, tokens.split()))
        return wall, _peak_rss_mb(child.pid)
    finally:
        child.terminate()
        child.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="50,200")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--mb", type=int, default=2)
    parser.add_argument("--serve", choices=MODES)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve, args.files, args.mb, args.clients))
        return
    print(f"Case bundle: {args.files} evidence files of {args.mb} MB each (random bytes)")
    print(f"{'concurrent downloads':>20} | {'how':<32} | {'wall time':>9} | {'peak RSS':>9}")
    print(f"{'-' * 20}-+-{'-' * 32}-+-{'-' * 9}-+-{'-' * 9}")
    for clients in (int(n) for n in args.concurrency.split(",")):
        for mode, words in MODES.items():
            wall, rss = run_row(mode, clients, args.files, args.mb)
            print(f"{clients:>20} | {words:<32} | {wall:>8.1f}s | {rss:>6.0f} MB", flush=True)


if __name__ == "__main__":
    main()
