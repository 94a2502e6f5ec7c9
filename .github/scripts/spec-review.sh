#!/usr/bin/env bash
# The shell step of the `spec review` job (.github/workflows/spec-review.yml):
# runs `cargo xtask review` against the base commit and leaves, in $OUT, what
# the commenter needs: comment.md (the body), pr-number, and status (the
# review's exit code). Exits with the review's status (0 mergeable, 1 not), or
# 2 when the review could not run; the body then says so.
#
# Inputs (environment): BASE_SHA, PR_NUMBER, OUT; optional XTASK (the
# command, default `cargo xtask`), REVIEW_REPO (the repository to review,
# default the current directory) and REVIEW_DOCS (the vendor documents).
# Tested by xtask/tests/review.rs against scratch repositories.
set -euo pipefail

: "${BASE_SHA:?BASE_SHA: the commit the pull request is merged into}"
: "${PR_NUMBER:?PR_NUMBER: the pull request}"
: "${OUT:?OUT: the folder for the comment}"
case "$PR_NUMBER" in
  '' | *[!0-9]*) echo "error: PR_NUMBER must be a number, not '$PR_NUMBER'" >&2; exit 2 ;;
esac

mkdir -p "$OUT"
read -r -a xtask <<<"${XTASK:-cargo xtask}"
args=(review --base "$BASE_SHA" --format markdown)
if [ -n "${REVIEW_REPO:-}" ]; then args+=(--repo "$REVIEW_REPO"); fi
if [ -n "${REVIEW_DOCS:-}" ]; then args+=(--docs "$REVIEW_DOCS"); fi

status=0
"${xtask[@]}" "${args[@]}" >"$OUT/comment.md" 2>"$OUT/stderr.txt" || status=$?
cat "$OUT/stderr.txt" >&2

if [ "$status" -gt 1 ]; then
  {
    echo "### ⚠️ Spec review could not run (exit $status)"
    echo
    echo "Against \`$BASE_SHA\`. The last lines it printed:"
    echo
    echo '```text'
    tail -n 20 "$OUT/stderr.txt"
    echo '```'
  } >"$OUT/comment.md"
fi
printf '%s\n' "$PR_NUMBER" >"$OUT/pr-number"
printf '%s\n' "$status" >"$OUT/status"
rm -f "$OUT/stderr.txt"
exit "$status"
