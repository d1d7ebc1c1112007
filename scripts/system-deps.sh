#!/usr/bin/env bash
# Make sure the PostgreSQL 15 server binaries are present (dbkit starts throwaway
# clusters; it needs initdb/pg_ctl, not a running server), plus the optional pieces
# some tests exercise for real: pg_cron, plpgsql_check and chromium (HTML report
# screenshot). Installs with apt-get when run as root on Debian/Ubuntu; otherwise
# says what is missing. Optional packages that cannot be installed only make their
# tests skip, with the reason printed.
set -u

required=(postgresql-15)
optional=(postgresql-15-cron postgresql-15-plpgsql-check chromium)

have_server() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

missing=()
have_server || missing+=("${required[@]}")
for pkg in "${optional[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing[*]}; install them with your package manager (as root: apt-get install ${missing[*]})" >&2
  have_server || exit 1
  exit 0
fi

echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
for pkg in "${missing[@]}"; do
  if ! apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1; then
    echo "system-deps: could not install $pkg" >&2
  fi
done
if ! have_server; then
  echo "system-deps: PostgreSQL server binaries are still missing: apt-get install postgresql-15" >&2
  exit 1
fi
exit 0
