#!/bin/sh
# The GitHub Action's optional verify step (action.yml, input
# verify-dev-url): prove on scratch databases of that server (a service
# container) that every down migration undoes its up, with the data and
# lock checks; exit with verify's own code (0 every round trip passed,
# 1 one failed, 2 an error).
# Inputs come as environment variables: SCHEMACTL (the binary),
# INPUT_WORKING_DIRECTORY, INPUT_VERIFY_DEV_URL.
set -u
schemactl=${SCHEMACTL:-schemactl}
cd "${INPUT_WORKING_DIRECTORY:-.}" || exit 2
if [ -z "${INPUT_VERIFY_DEV_URL:-}" ]; then
  echo "::error title=schemactl verify::verify-dev-url is empty" >&2
  exit 2
fi
# The URL goes through the environment, never the command line.
SCHEMACTL_DEV_URL=$INPUT_VERIFY_DEV_URL exec "$schemactl" verify --data --locks
