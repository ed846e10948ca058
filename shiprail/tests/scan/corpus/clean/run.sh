#!/bin/sh
set -eu
exec python -m app.main "$@"
