#!/bin/sh
# The digest of the editor's sources: sha256 over "<sha256>  <path>" lines, paths sorted
# bytewise. tests/workflows/test_editor_bundle.py computes the same in Python.
set -e
cd "$(dirname "$0")"
{ find src -type f; echo package.json; echo package-lock.json; echo vite.config.js; } \
  | LC_ALL=C sort | while read -r path; do sha256sum "$path"; done | sha256sum | cut -d' ' -f1
