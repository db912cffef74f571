#!/usr/bin/env bash
# Creates Päivystys's PostgreSQL database and roles with ops/postgres-setup.sql.
#
#   sudo -u postgres ops/postgres-setup.sh
#
# Run it as a PostgreSQL superuser (the `postgres` system user must be able to read both
# ops/postgres-setup.sh and ops/postgres-setup.sql). It asks for the two passwords on the
# terminal; pressing Enter generates a random one, which is shown once, inside the URLs printed
# at the end. Or give the passwords in the environment, never on a command line (where `ps`
# shows them), e.g.:
#   read -rs PAIVYSTYS_DB_PASSWORD; read -rs PAIVYSTYS_SHELTER_DB_PASSWORD
#   export PAIVYSTYS_DB_PASSWORD PAIVYSTYS_SHELTER_DB_PASSWORD
#   sudo --preserve-env=PAIVYSTYS_DB_PASSWORD,PAIVYSTYS_SHELTER_DB_PASSWORD -u postgres \
#       ops/postgres-setup.sh
# Either way the passwords reach psql on its standard input, not as arguments.
#
# Environment (all optional):
#   PAIVYSTYS_DB_PASSWORD           password of the county role; set but empty: no password
#                                   (e.g. peer authentication over the Unix socket)
#   PAIVYSTYS_SHELTER_DB_PASSWORD   password of the shelter register's role (same rules)
#   PAIVYSTYS_DB                    county database            (default paivystys)
#   PAIVYSTYS_DB_ROLE               county login role          (default paivystys)
#   PAIVYSTYS_DB_SCHEMA             county schema              (default paivystys)
#   PAIVYSTYS_SHELTER_DB_ROLE       shelter login role         (default paivystys_shelter)
#   PAIVYSTYS_SHELTER_DB_SCHEMA     shelter schema             (default shelter)
#   PAIVYSTYS_SHELTER_DB            shelter database           (default: the county database;
#                                   e.g. paivystys_shelter for a database of its own)
#   PGHOST, PGPORT, PGUSER, ...     where and as whom psql connects, as usual
#
# Safe to run again: it keeps what exists and resets the two passwords to the ones given.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sql="$here/postgres-setup.sql"
[ -r "$sql" ] || { echo "postgres-setup.sh: cannot read $sql" >&2; exit 1; }
command -v psql >/dev/null || { echo "postgres-setup.sh: psql not found" >&2; exit 1; }

db="${PAIVYSTYS_DB:-paivystys}"
app_role="${PAIVYSTYS_DB_ROLE:-paivystys}"
app_schema="${PAIVYSTYS_DB_SCHEMA:-paivystys}"
shelter_role="${PAIVYSTYS_SHELTER_DB_ROLE:-paivystys_shelter}"
shelter_schema="${PAIVYSTYS_SHELTER_DB_SCHEMA:-shelter}"
shelter_db="${PAIVYSTYS_SHELTER_DB:-$db}"

for name in "$db" "$app_role" "$app_schema" "$shelter_role" "$shelter_schema" "$shelter_db"; do
    if ! [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
        echo "postgres-setup.sh: '$name' is not a plain lower-case SQL name" >&2
        exit 1
    fi
done
if [ "$app_role" = "$shelter_role" ] || [ "$app_schema" = "$shelter_schema" ]; then
    echo "postgres-setup.sh: the shelter register needs a role and a schema of its own" >&2
    exit 1
fi

# The password for a role: from the environment variable $1 if it is set (even empty), else
# typed on the terminal, else generated (32 URL-safe characters: nothing to percent-encode).
# Sets $password, and $shown to what the final URL may show ("PASSWORD" unless generated).
ask_password() {
    local var="$1" what="$2"
    shown="PASSWORD"
    if [ -n "${!var+set}" ]; then
        password="${!var}"
        return
    fi
    if [ ! -t 0 ]; then
        echo "postgres-setup.sh: set $var, or run this on a terminal" >&2
        exit 1
    fi
    read -rs -p "Password of the $what role (Enter: generate one): " password
    echo >&2
    if [ -z "$password" ]; then
        password="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
        shown="$password"
    fi
}
ask_password PAIVYSTYS_DB_PASSWORD "county ($app_role)"
app_password="$password"
app_shown="$shown"
ask_password PAIVYSTYS_SHELTER_DB_PASSWORD "shelter register ($shelter_role)"
shelter_password="$password"
shelter_shown="$shown"
unset password shown

case "$app_password$shelter_password" in
    *$'\n'* | *$'\r'*) echo "postgres-setup.sh: a password contains a line break" >&2; exit 1 ;;
esac

# A value as a single-quoted psql meta-command argument: backslashes and quotes doubled.
psql_quote() {
    local s="${1//\\/\\\\}"
    s="${s//\'/\'\'}"
    printf "'%s'" "$s"
}

# The passwords go to psql's standard input as \set commands ahead of the script (printf is
# a shell builtin: no process, no command line); the script follows.
{
    printf '\\set app_password %s\n' "$(psql_quote "$app_password")"
    printf '\\set shelter_password %s\n' "$(psql_quote "$shelter_password")"
    cat "$sql"
} | psql -X -v ON_ERROR_STOP=1 \
    -v db="$db" -v app_role="$app_role" -v app_schema="$app_schema" \
    -v shelter_role="$shelter_role" -v shelter_schema="$shelter_schema" \
    -v shelter_db="$shelter_db" \
    --dbname=postgres

host="${PGHOST:-127.0.0.1}"
case "$host" in /*) host="localhost" ;; esac
port="${PGPORT:-5432}"
cat <<EOF

Put the two URLs into /etc/paivystys/env (root-only, mode 0600). Where it says PASSWORD,
write the role's password, percent-encoded if it has characters other than letters, digits,
'-' and '_'. Generated passwords are shown here once: this is the only copy.
  PAIVYSTYS_DATABASE_URL=postgres://$app_role:$app_shown@$host:$port/$db
  PAIVYSTYS_SHELTER_DATABASE_URL=postgres://$shelter_role:$shelter_shown@$host:$port/$shelter_db?options=-csearch_path%3D$shelter_schema
Then let the two roles in through pg_hba.conf (see the comments in postgres-setup.sql).
EOF
