#!/bin/sh
# Builds the workflow editor into static/workflows/editor/ (editor.js, editor.css; committed),
# and records the digest of the sources it was built from (SOURCES.sha256), which a test
# compares with the sources in the tree: a source changed without a rebuild fails CI.
set -e
cd "$(dirname "$0")"
npm ci
npm run build
./digest.sh > ../../static/workflows/editor/SOURCES.sha256
