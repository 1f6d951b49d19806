#!/bin/sh
# The official redis image's entrypoint contract, for the Debian stand-in image.
set -e
case "$1" in -*|*.conf) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ]; then
  shift
  conf=""
  case "${1:-}" in *.conf) conf=$1; shift ;; esac
  # A config file must come first; later arguments override these defaults.
  # shellcheck disable=SC2086
  set -- redis-server $conf --protected-mode no --dir /data "$@"
  if [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
