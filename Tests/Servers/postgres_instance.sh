#!/bin/bash
# A private PostgreSQL server for tests and benchmarks, from Debian's postgresql package.
#
#   postgres_instance.sh start DIR PORT    # initdb into DIR/data, listen on 127.0.0.1:PORT, wait until ready
#   postgres_instance.sh stop  DIR         # fast shutdown, waits
#
# POSTGRES_DURABLE=1 keeps PostgreSQL's own durability settings (fsync, synchronous commits), as a production
# server has them: for benchmarks. Tests run without them.
#
# The server runs as an unprivileged user: the invoking user, or `postgres` when invoked as root (PostgreSQL
# refuses to run as root). Its superuser is `appeal`, trusted on 127.0.0.1 and on its socket in DIR (no
# password); a database `appeal` is created. Everything lives in DIR; remove DIR after `stop`.
set -eu

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "PostgreSQL is not installed: run scripts/setup --tests" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

command=$1
dir=$(realpath -m "$2")

case "$command" in
start)
  port=$3
  # The server must not keep any descriptor of the caller's but the log: a caller waiting for this script
  # to end (Foundation's Process watches a descriptor it passes down) would wait for the server to stop.
  for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
  done
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" --pgdata="$dir/data" --username=appeal --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # Tests need speed, not durability across a power cut: the server's own files are thrown away after.
  durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${POSTGRES_DURABLE:-}" = 1 ] && durability=""
  as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir $durability -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/createdb" --host="$dir" --port="$port" --username=appeal appeal
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=60 stop >/dev/null
  ;;
*)
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
  ;;
esac
