#!/bin/sh
# Builds the workflow editor into static/workflows/editor/ (editor.js, editor.css; committed).
set -e
cd "$(dirname "$0")"
npm ci
npm run build
