#!/usr/bin/env bash
# The restore drill: restore a scripts/backup.sh archive into a fresh database and compare it with the source.
#   scripts/restore-drill.sh ARCHIVE SOURCE_DB [TARGET_DB]
# TARGET_DB (default SOURCE_DB_restore_<pid>) must not exist; it is created, restored and, unless
# SIAGA_RESTORE_KEEP=1, dropped at the end. Connection: PGHOST/PGPORT/PGUSER/PGPASSWORD (one server for both).
# Compared: the row count of every table, and the last fix of every unit (fix id, time and position). The
# source should not change meanwhile (bench/drills.py runs it with the stack stopped); on a live centre compare
# instead against what the archive was taken from, or read the counts as "at least".
# Prints a line per table that differs and a summary; exits 1 if anything differs.
set -euo pipefail
archive="${1:?usage: restore-drill.sh ARCHIVE SOURCE_DB [TARGET_DB]}"
source_db="${2:?usage: restore-drill.sh ARCHIVE SOURCE_DB [TARGET_DB]}"
target="${3:-${source_db}_restore_$$}"
[ -r "$archive" ] || { echo "no archive at $archive" >&2; exit 2; }
started=$SECONDS
createdb "$target"
cleanup() { [ "${SIAGA_RESTORE_KEEP:-0}" = 1 ] || dropdb --if-exists "$target"; }
trap cleanup EXIT
# One transaction: a restore that fails part way leaves an empty database, not half of one.
pg_restore --no-owner --no-privileges --single-transaction --exit-on-error --dbname "$target" "$archive"
restored_s=$((SECONDS - started))

counts() {  # every table of the public schema and its exact row count, sorted
  psql -X -q -A -t -F ' ' -d "$1" -v ON_ERROR_STOP=1 <<'SQL'
SELECT format('SELECT %L, count(*) FROM %I.%I', c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname
\gexec
SQL
}
last_fixes() {  # every unit's last fix: id, when, where
  psql -X -q -A -t -F ' ' -d "$1" -v ON_ERROR_STOP=1 -c "
    SELECT u.id, coalesce(f.id::text, '-'), coalesce(f.recorded_at::text, '-'), coalesce(f.lon::text, '-'),
           coalesce(f.lat::text, '-')
    FROM fleet_unit u LEFT JOIN fleet_positionfix f ON f.id = u.last_fix_id ORDER BY u.id"
}
src_counts="$(counts "$source_db")"
dst_counts="$(counts "$target")"
differ=0
tables=0
rows=0
while read -r table n; do
  tables=$((tables + 1))
  rows=$((rows + n))
  m="$(awk -v t="$table" '$1 == t {print $2}' <<<"$dst_counts")"
  if [ "$n" != "$m" ]; then
    echo "  differs: $table $n rows in $source_db, ${m:-no table} in the restore"
    differ=1
  fi
done <<<"$src_counts"
units="$(last_fixes "$source_db" | wc -l)"
if ! diff <(last_fixes "$source_db") <(last_fixes "$target") >/dev/null; then
  echo "  differs: the last fix of $(diff <(last_fixes "$source_db") <(last_fixes "$target") | grep -c '^<') units"
  differ=1
fi
echo "restored $archive into $target in ${restored_s} s: $tables tables, $rows rows, $units units' last fixes"
if [ "$differ" = 0 ]; then
  echo "restore drill: every table's row count and every unit's last fix match $source_db"
else
  echo "restore drill: the restore DIFFERS from $source_db" >&2
  exit 1
fi
