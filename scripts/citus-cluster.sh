#!/usr/bin/env bash
# A throw-away Citus cluster on this machine, for the Citus tests and the bench (docs/operations.md,
# "Beyond one machine"): a coordinator and N workers, each a PostgreSQL 15 instance under DIR run
# as the postgres user, trust auth on 127.0.0.1 only, fsync off. Needs root (it switches to the
# postgres user) and the citus extension installed (../shared/citus/install.sh, or a package).
#
#   citus-cluster.sh start DIR [BASE_PORT=5470] [WORKERS=2]  prints the coordinator's URL
#   citus-cluster.sh database DIR BASE_PORT WORKERS NAME     adds database NAME to every node, citus in it
#   citus-cluster.sh node-stop DIR I | node-start DIR I      stops or starts node I (0 = coordinator)
#   citus-cluster.sh stop DIR                                stops every node and removes DIR
#
# Every node has a superuser `root` and a database `shop` with the workers added to it.
set -euo pipefail
cmd=${1:?start|database|node-stop|node-start|stop}
dir=${2:?DIR}
bin=/usr/lib/postgresql/15/bin
as_postgres() { runuser -u postgres -- "$@"; }
sql() { psql -h 127.0.0.1 -p "$1" -U root -d "$2" -qAtX -v ON_ERROR_STOP=1 -c "$3" >/dev/null; }

# Citus metadata is per database: the extension on every node, the workers added on the coordinator.
add_database() { # add_database BASE WORKERS NAME
  local base=$1 workers=$2 name=$3 i
  for i in $(seq 0 "$workers"); do
    [ -n "$(psql -h 127.0.0.1 -p $((base + i)) -U root -d postgres -qAtX -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" ] ||
      sql $((base + i)) postgres "CREATE DATABASE $name OWNER root"
    sql $((base + i)) "$name" "CREATE EXTENSION IF NOT EXISTS citus"
  done
  sql "$base" "$name" "SELECT citus_set_coordinator_host('127.0.0.1', $base)"
  for i in $(seq 1 "$workers"); do sql "$base" "$name" "SELECT citus_add_node('127.0.0.1', $((base + i)))"; done
}

case "$cmd" in
start)
  base=${3:-5470}
  workers=${4:-2}
  [ -f /usr/lib/postgresql/15/lib/citus.so ] || { echo "citus-cluster.sh: the citus extension is not installed" >&2; exit 1; }
  # A port already taken (a cluster a killed run left behind, say) would fail later as pg_ctl's
  # bare "could not start server": say which port, and how to free it.
  for i in $(seq 0 "$workers"); do
    if pg_isready -q -h 127.0.0.1 -p $((base + i)); then
      echo "citus-cluster.sh: port $((base + i)) is in use; a cluster left by a killed run? stop it with: $0 stop <its DIR> (ps -o args -C postgres shows it)" >&2
      exit 1
    fi
  done
  mkdir -p "$dir"
  chown postgres "$dir"
  as_postgres test -w "$dir" || { echo "citus-cluster.sh: the postgres user cannot write $dir" >&2; exit 1; }
  for i in $(seq 0 "$workers"); do
    node="$dir/node$i"
    as_postgres "$bin/initdb" -D "$node" -A trust -U postgres >/dev/null
    cat >>"$node/postgresql.conf" <<CONF
port = $((base + i))
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'citus'
max_connections = 200
fsync = off
CONF
    as_postgres "$bin/pg_ctl" -D "$node" -l "$node/log" -w start >/dev/null
    as_postgres psql -h 127.0.0.1 -p $((base + i)) -U postgres -qAtX \
      -c "CREATE ROLE root SUPERUSER LOGIN" -c "CREATE DATABASE shop OWNER root" >/dev/null
  done
  add_database "$base" "$workers" shop
  echo "postgres://root@127.0.0.1:$base/shop"
  ;;
database)
  add_database "${3:?BASE_PORT}" "${4:?WORKERS}" "${5:?NAME}"
  ;;
node-stop)
  as_postgres "$bin/pg_ctl" -D "$dir/node${3:?I}" -m immediate -w stop >/dev/null
  ;;
node-start)
  as_postgres "$bin/pg_ctl" -D "$dir/node${3:?I}" -l "$dir/node$3/log" -w start >/dev/null
  ;;
stop)
  for node in "$dir"/node*; do
    [ -d "$node" ] && as_postgres "$bin/pg_ctl" -D "$node" -m fast -w stop >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
  ;;
*)
  echo "usage: citus-cluster.sh start|database|node-stop|node-start|stop DIR ..." >&2
  exit 2
  ;;
esac
