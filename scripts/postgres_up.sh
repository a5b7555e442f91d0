#!/usr/bin/env bash
# Starts the local PostgreSQL (Debian's `postgresql` package, its first cluster) and makes the
# current user a superuser role of the same name, so that `psql -h /var/run/postgresql -d
# postgres` and the indexer's tests (`host=/var/run/postgresql dbname=postgres`, or
# AITBC_TEST_POSTGRES) connect over the socket with peer authentication. Run as root; does
# nothing that is done already.
#
#   scripts/postgres_up.sh
set -euo pipefail

command -v pg_lsclusters >/dev/null || { echo "postgres_up.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 2; }
read -r version cluster status < <(pg_lsclusters --no-header | awk 'NR == 1 { print $1, $2, $4 }')
[ -n "${cluster:-}" ] || { echo "postgres_up.sh: no PostgreSQL cluster (pg_createcluster)" >&2; exit 2; }
if [ "$status" != online ]; then
  pg_ctlcluster "$version" "$cluster" start
fi
user=$(id -un)
deadline=$((SECONDS + 30))
until su postgres -c "psql -qAtc 'SELECT 1'" >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "postgres_up.sh: PostgreSQL did not start within 30 s" >&2; exit 1; }
  sleep 0.2
done
if [ "$(su postgres -c "psql -qAtc \"SELECT 1 FROM pg_roles WHERE rolname = '$user'\"")" != 1 ]; then
  su postgres -c "psql -qc 'CREATE ROLE \"$user\" SUPERUSER LOGIN'"
fi
echo "PostgreSQL $version/$cluster online; role $user"
