#!/bin/sh
# The GitHub Action's lint step (action.yml): lint the migrations with
# annotations on the pull request's diff (`--format github`, read from
# stdout by the runner), write a SARIF file for code scanning, and exit
# with lint's own code (0 clean, 1 findings, 2 an error).
# Inputs come as environment variables: SCHEMACTL (the binary),
# INPUT_WORKING_DIRECTORY, INPUT_SINCE, INPUT_SARIF_FILE, INPUT_FAIL_ON_FINDINGS.
set -u
schemactl=${SCHEMACTL:-schemactl}
cd "${INPUT_WORKING_DIRECTORY:-.}" || exit 2
sarif=${INPUT_SARIF_FILE:-schemactl.sarif}
if [ -n "${INPUT_SINCE:-}" ]; then
  set -- --since "$INPUT_SINCE"
else
  set --
fi
"$schemactl" lint --format github "$@"
status=$?
"$schemactl" lint --format sarif "$@" > "$sarif"
if [ "$status" -eq 1 ] && [ "${INPUT_FAIL_ON_FINDINGS:-true}" = "false" ]; then
  exit 0
fi
exit "$status"
