"""The preview janitor, run as its workflow runs it: from a checkout of the workload repository (a
real git repository holding the generated .github/), against an HTTP server that answers with the
GitHub API responses in tests/fixtures/preview_janitor/ (paginated like GitHub, with a Link header)
and records what the janitor changes. TTL (counted from the last time the opt-in label was added),
`max` (the oldest running previews go first), forks, bots and drafts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import ROOT, require_tool
from preview_fraud import fraud_with_previews

from compiler import writer
from compiler.pipeline import check, render
from targets import TARGETS

FIXTURES = ROOT / "tests" / "fixtures" / "preview_janitor"
REPO = "acme/checkout-service"
TOKEN = "test-token"


class GitHubReplay(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any, link: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"message": "Bad credentials"})
            return
        url = urlparse(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.calls.append((method, url.path + (f"?{url.query}" if url.query else ""), body))
        base = f"/repos/{REPO}"
        parts = url.path.removeprefix(base).strip("/").split("/")
        if method == "GET" and parts == ["pulls"]:
            assert query.get("state") == ["open"]
            if query.get("page") == ["2"]:
                self._answer(200, json.loads((FIXTURES / "pulls-page2.json").read_text()))
            else:
                host = self.headers["Host"]
                self._answer(200, json.loads((FIXTURES / "pulls-page1.json").read_text()),
                             f'<http://{host}{base}/pulls?state=open&per_page=100&page=2>; rel="next", '
                             f'<http://{host}{base}/pulls?state=open&per_page=100&page=2>; rel="last"')
        elif method == "GET" and parts[0] == "issues" and parts[2] == "events":
            self._answer(200, json.loads((FIXTURES / "events.json").read_text()).get(parts[1], []))
        elif method == "DELETE" and parts[0] == "issues" and parts[2] == "labels":
            self._answer(200, [])
        elif method == "GET" and parts == ["deployments"]:
            number = query["environment"][0].removeprefix("preview-pr-")
            self._answer(200, json.loads((FIXTURES / "deployments.json").read_text()).get(number, []))
        elif method == "POST" and parts[0] == "deployments" and parts[2] == "statuses":
            self._answer(201, {"state": body["state"]})
        else:
            self._answer(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")


@pytest.fixture()
def github() -> Iterator[tuple[str, list[tuple[str, str, Any]]]]:
    GitHubReplay.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), GitHubReplay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", GitHubReplay.calls
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository as the workload repository holds the generated preview files."""
    git = require_tool("git")
    checked = check(fraud_with_previews())
    assert checked.platform is not None
    artifacts, _ = render(checked.platform, list(TARGETS))
    tree = tmp_path_factory.mktemp("tree") / "fraud"
    writer.apply(writer.plan(artifacts, tree))
    repo = tmp_path_factory.mktemp("checkout-service")
    shutil.copytree(tree / "github" / "checkout" / ".github", repo / ".github")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "gpc's preview workflows"]):
        subprocess.run([git, *args], cwd=repo, check=True, env=env)
    return repo


def run_janitor(repo: Path, api: str, **extra: str) -> subprocess.CompletedProcess[str]:
    import yaml

    workflow = yaml.safe_load((repo / ".github/workflows/preview-janitor.yaml").read_text())
    step = workflow["jobs"]["janitor"]["steps"][-1]
    env = {k: v for k, v in step["env"].items() if not str(v).startswith("${{")}
    env.update({"GH_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": api,
                "JANITOR_NOW": "2026-12-03T12:00:00+00:00", "PATH": os.environ["PATH"], **extra})
    command = step["run"].split()
    assert command[0] == "python3"
    return subprocess.run([sys.executable, *command[1:]], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_janitor_removes_expired_surplus_fork_and_bot_previews_oldest_first(
        repository: Path, github: tuple[str, list[tuple[str, str, Any]]]) -> None:
    api, calls = github
    done = run_janitor(repository, api)
    assert done.returncode == 0, done.stderr
    deleted = [path for method, path, _ in calls if method == "DELETE"]
    base = f"/repos/{REPO}/issues"
    # 22: labelled 80h ago (> 72h); 26: the oldest of six running previews (max 5); 24: a fork's;
    # 25: a bot's. 21 was opened 200h ago but labelled again 2h ago: it stays.
    assert deleted == [f"{base}/{n}/labels/{label}" for n in (22, 26, 24, 25) for label in ("preview-ready", "preview")]
    inactive = [(path, body) for method, path, body in calls if method == "POST"]
    assert inactive == [(f"/repos/{REPO}/deployments/{i}/statuses", {"state": "inactive"}) for i in (422, 4221, 424)]
    assert "#22: removing the preview, its preview is older than the TTL (80h > 72h)" in done.stdout
    assert "#26: removing the preview, more than 5 previews exist" in done.stdout
    git = require_tool("git")
    status = subprocess.run([git, "status", "--porcelain"], cwd=repository, capture_output=True, text=True)
    assert status.stdout == ""  # it changes GitHub, never the checkout


def test_a_larger_max_and_allowed_bots_keep_more(repository: Path,
                                                 github: tuple[str, list[tuple[str, str, Any]]]) -> None:
    api, calls = github
    done = run_janitor(repository, api, PREVIEW_MAX="10", PREVIEW_ALLOW_BOTS="true")
    assert done.returncode == 0, done.stderr
    removed = sorted({int(path.split("/")[5]) for method, path, _ in calls if method == "DELETE"})
    assert removed == [22, 24]  # the TTL and the fork rule hold whatever the spec allows


def test_a_bad_token_fails_the_run(repository: Path, github: tuple[str, list[tuple[str, str, Any]]]) -> None:
    api, calls = github
    done = run_janitor(repository, api, GH_TOKEN="wrong")
    assert done.returncode != 0 and "401" in done.stderr
    assert not [c for c in calls if c[0] != "GET"]
