#!/usr/bin/env bash
# Back up Siaga's database: one pg_dump archive in custom format, checked, the oldest pruned.
#   scripts/backup.sh [DBNAME] [DIR]     (default: the database of DATABASE_URL, or siaga; DIR run/backups)
# Connection: DATABASE_URL (postgis:// or postgresql://) or the usual PGHOST/PGPORT/PGUSER/PGPASSWORD.
# SIAGA_BACKUP_KEEP archives are kept (default 14: two weeks of nightly backups). Run it from cron, e.g.
#   15 2 * * *  cd /srv/siaga && scripts/backup.sh siaga /var/backups/siaga
# and copy DIR off the machine. scripts/restore-drill.sh ARCHIVE restores one into a fresh database and
# compares it with the live one (bench/drills.py runs both).
#
# Why pg_dump (custom format) and not a base backup with WAL archiving: a 112 centre of a city or kabupaten
# has one PostgreSQL and, often, nobody whose job is PostgreSQL. A custom-format dump is one file, taken from a
# running database in one consistent snapshot without stopping anything, restorable with pg_restore into any
# PostgreSQL of the same or a newer major version on any machine (a base backup restores only into the same
# major version and layout), selective (one table) and compressed. What it loses is point-in-time recovery:
# what was written after the last dump. For a centre that cannot lose a day, run it more often (hourly: the
# position history dominates, and a dump of a few GB takes minutes) or move to pg_basebackup plus
# archive_command (WAL archiving, PITR to any second) once somebody can own the archive's storage and its
# restores; docs/ARCHITECTURE.md ("Drills and backups") says when.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-}"
dir="${2:-run/backups}"
keep="${SIAGA_BACKUP_KEEP:-14}"
conn=()
if [ -z "$db" ] && [ -n "${DATABASE_URL:-}" ]; then
  url="${DATABASE_URL/#postgis:/postgresql:}"
  conn=(--dbname "$url")
  db="${url##*/}"
  db="${db%%\?*}"
else
  db="${db:-siaga}"
  conn=(--dbname "$db")
fi
case "$keep" in '' | *[!0-9]*) echo "SIAGA_BACKUP_KEEP=$keep: give a number of archives" >&2; exit 2 ;; esac
mkdir -p "$dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
archive="$dir/$db-$stamp.dump"
partial="$archive.partial"
trap 'rm -f "$partial"' EXIT
started=$SECONDS
# --format=custom: compressed, one file, pg_restore picks tables and runs in parallel (-j). No owner or
# privileges: a restore on another machine need not have the same roles.
pg_dump "${conn[@]}" --format=custom --compress=6 --no-owner --no-privileges --file "$partial"
# A dump that pg_restore cannot list is no backup.
pg_restore --list "$partial" >/dev/null
mv "$partial" "$archive"
trap - EXIT
# Keep the newest $keep archives of this database.
mapfile -t old < <(ls -1 "$dir"/"$db"-*.dump 2>/dev/null | sort | head -n "-$keep")
for f in "${old[@]}"; do rm -f -- "$f"; done
echo "backup $archive ($(du -h "$archive" | cut -f1), $((SECONDS - started)) s; ${#old[@]} old removed, $keep kept)"
