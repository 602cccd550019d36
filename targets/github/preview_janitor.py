"""The preview janitor (generated into each workload repository as .github/preview/janitor.py).

Run hourly by .github/workflows/preview-janitor.yaml with the repository's GITHUB_TOKEN (as GH_TOKEN). It takes
the preview labels off every open pull request that may not keep its preview, which makes Argo CD's
pull-request generator drop it and the Application's prune delete the preview:

- a pull request from a fork, by a bot, or a draft (unless the spec allows bots or drafts);
- a preview older than the TTL, counted from the last time the opt-in label was added;
- beyond `max` previews, the oldest ones first.

It also marks the GitHub Deployments of those previews inactive. Standard library only, so the
runner needs nothing installed. `select` is the decision, separate from the API calls, and tested.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def started(pull: dict[str, Any], events: list[dict[str, Any]], label: str) -> datetime:
    """When this preview was asked for: the last time `label` was added, else the pull request's creation."""
    added = [parse_time(e["created_at"]) for e in events
             if e.get("event") == "labeled" and (e.get("label") or {}).get("name") == label]
    return max(added) if added else parse_time(pull["created_at"])


def refusal(pull: dict[str, Any], repository: str, allow_bots: bool, allow_drafts: bool) -> str | None:
    head = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
    if head != repository:
        return "it comes from a fork"
    if not allow_bots and (pull.get("user") or {}).get("type") == "Bot":
        return "it was opened by a bot"
    if not allow_drafts and pull.get("draft"):
        return "it is a draft"
    return None


def labelled(pulls: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [p for p in pulls if set(names) & {lb["name"] for lb in p.get("labels", [])}]


def select(pulls: list[dict[str, Any]], starts: dict[int, datetime], *, now: datetime, repository: str,
           label: str, ready: str, ttl_seconds: int, maximum: int, allow_bots: bool = False,
           allow_drafts: bool = False) -> list[tuple[int, str]]:
    """(number, reason) of every labelled pull request whose preview must go, oldest first. Refusals
    and the TTL apply to every pull request with either label (someone may have added `ready` by
    hand); `max` counts the running previews, those with `ready`."""
    removed: dict[int, str] = {}
    kept = []
    for pull in labelled(pulls, label, ready):
        number = pull["number"]
        reason = refusal(pull, repository, allow_bots, allow_drafts)
        age = (now - starts[number]).total_seconds()
        if reason is None and age > ttl_seconds:
            reason = f"its preview is older than the TTL ({int(age // 3600)}h > {ttl_seconds // 3600}h)"
        if reason is not None:
            removed[number] = reason
        elif ready in {lb["name"] for lb in pull.get("labels", [])}:
            kept.append(pull)
    kept.sort(key=lambda p: (starts[p["number"]], p["number"]), reverse=True)  # newest first
    for pull in kept[maximum:]:
        removed[pull["number"]] = f"more than {maximum} previews exist; it is among the oldest"
    return sorted(removed.items(), key=lambda item: (starts[item[0]], item[0]))


class GitHub:
    def __init__(self, api: str, repository: str, token: str) -> None:
        self.api, self.repository, self.token = api.rstrip("/"), repository, token

    def call(self, method: str, path: str, body: Any = None) -> tuple[Any, str]:
        url = path if path.startswith("http") else f"{self.api}{path}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "gpc-preview-janitor"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return (json.loads(text) if text else None), response.headers.get("Link", "")
        except urllib.error.HTTPError as err:
            if err.code == 404 and method == "DELETE":
                return None, ""  # the label was already gone
            raise

    def pages(self, path: str) -> list[Any]:
        items: list[Any] = []
        url: str | None = path
        while url:
            page, link = self.call("GET", url)
            items += page
            url = next((part.split(";")[0].strip()[1:-1] for part in link.split(",") if 'rel="next"' in part), None)
        return items


def main() -> int:
    env = os.environ
    repository = env["GITHUB_REPOSITORY"]
    gh = GitHub(env.get("GITHUB_API_URL", "https://api.github.com"), repository, env["GH_TOKEN"])
    label, ready = env["PREVIEW_LABEL"], env["PREVIEW_READY_LABEL"]
    pulls = gh.pages(f"/repos/{repository}/pulls?state=open&per_page=100")
    starts = {p["number"]: started(p, gh.pages(f"/repos/{repository}/issues/{p['number']}/events?per_page=100"),
                                   label) for p in labelled(pulls, label, ready)}
    now = datetime.fromisoformat(env["JANITOR_NOW"]) if env.get("JANITOR_NOW") else datetime.now(UTC)
    chosen = select(pulls, starts, now=now, repository=repository, label=label, ready=ready,
                    ttl_seconds=int(env["PREVIEW_TTL_SECONDS"]), maximum=int(env["PREVIEW_MAX"]),
                    allow_bots=env.get("PREVIEW_ALLOW_BOTS") == "true",
                    allow_drafts=env.get("PREVIEW_ALLOW_DRAFTS") == "true")
    for number, reason in chosen:
        print(f"#{number}: removing the preview, {reason}")
        for name in (ready, label):
            gh.call("DELETE", f"/repos/{repository}/issues/{number}/labels/{urllib.parse.quote(name, safe='')}")
        environment = urllib.parse.quote(f"preview-pr-{number}", safe="")
        for deployment in gh.pages(f"/repos/{repository}/deployments?environment={environment}&per_page=100"):
            gh.call("POST", f"/repos/{repository}/deployments/{deployment['id']}/statuses", {"state": "inactive"})
    if not chosen:
        print("every preview may stay")
    return 0


if __name__ == "__main__":
    sys.exit(main())
