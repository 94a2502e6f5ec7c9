#!/usr/bin/env python3
"""Create or update the one spec-review comment of a pull request.

Run by .github/workflows/spec-review-comment.yml with a token that may write
comments. Everything in the artifact folder ($ARTIFACT) came from a job that
ran the pull request's code, so it is data only: `pr-number` must be a decimal
number, `comment.md` is posted as text, and when $HEAD_SHA is given the pull
request's head must still be that commit (else a newer run will comment).

The comment is found again by MARKER on its first line, among the comments
written by $COMMENTER (default github-actions[bot]); a first run creates it,
every later run updates it. HTTP goes to $GITHUB_API_URL (tests point it at a
fake on loopback). Standard library only.

Exit status: 0 posted (or skipped for a stale run), 1 refused or failed.
"""

import json
import os
import pathlib
import re
import sys
import urllib.error
import urllib.request

MARKER = "<!-- snapsdk:spec-review -->"
# GitHub refuses comment bodies above 65536 characters.
LIMIT = 60000
PER_PAGE = 100


class Api:
    def __init__(self, base, repo, token):
        self.base = base.rstrip("/")
        self.repo = repo
        self.token = token

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as e:
            raise SystemExit(f"error: {method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')[:300]}")
        except urllib.error.URLError as e:
            raise SystemExit(f"error: {method} {path}: {e.reason}")
        return json.loads(text) if text else None

    def comments(self, pr):
        page = 1
        while True:
            batch = self.call("GET", f"/repos/{self.repo}/issues/{pr}/comments?per_page={PER_PAGE}&page={page}")
            yield from batch
            if len(batch) < PER_PAGE:
                return
            page += 1


def body_from(text):
    # The marker belongs to this script: one the pull request wrote is dropped.
    text = text.replace(MARKER, "")
    if len(text) > LIMIT:
        cut = text[:LIMIT]
        # Close an open <details> or code fence so the rest renders.
        if cut.count("```") % 2:
            cut += "\n```"
        if cut.count("<details>") > cut.count("</details>"):
            cut += "\n</details>"
        text = cut + "\n\n(cut at 60000 characters; run `cargo xtask review` for the whole report)\n"
    return MARKER + "\n" + text


def main():
    env = os.environ
    for name in ("GITHUB_REPOSITORY", "GITHUB_TOKEN", "ARTIFACT"):
        if not env.get(name):
            print(f"error: {name} is not set", file=sys.stderr)
            return 1
    folder = pathlib.Path(env["ARTIFACT"])
    try:
        pr = (folder / "pr-number").read_text().strip()
        text = (folder / "comment.md").read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        print(f"error: the review artifact is incomplete: {e}", file=sys.stderr)
        return 1
    if not re.fullmatch(r"[1-9][0-9]{0,9}", pr):
        print(f"error: refusing the artifact: pr-number is not a pull request number: {pr[:40]!r}", file=sys.stderr)
        return 1
    api = Api(env.get("GITHUB_API_URL", "https://api.github.com"), env["GITHUB_REPOSITORY"], env["GITHUB_TOKEN"])
    head = env.get("HEAD_SHA")
    if head:
        pull = api.call("GET", f"/repos/{api.repo}/pulls/{pr}")
        if pull.get("head", {}).get("sha") != head:
            print(f"pull request #{pr} has moved on from {head}; the run for its new head will comment")
            return 0
    body = body_from(text)
    who = env.get("COMMENTER", "github-actions[bot]")
    mine = next((c for c in api.comments(pr) if c.get("user", {}).get("login") == who and c.get("body", "").startswith(MARKER)), None)
    if mine is None:
        made = api.call("POST", f"/repos/{api.repo}/issues/{pr}/comments", {"body": body})
        print(f"created comment {made.get('id')} on #{pr}")
    else:
        api.call("PATCH", f"/repos/{api.repo}/issues/comments/{mine['id']}", {"body": body})
        print(f"updated comment {mine['id']} on #{pr}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
