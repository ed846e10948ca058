#!/bin/sh
# Deliberately flawed sample for the shellcheck scanner tests.
rm -rf $1/cache
cd /srv
for f in $(ls *.log); do echo "$f"; done
exec tar -czf backup.tgz $(find . -name "*.log") $@
