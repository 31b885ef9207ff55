#!/usr/bin/env bash
# create-schemas.sh — one PostgreSQL role + schema per Convene service.
#
# Idempotent: safe to run on every start. Used in two places:
#   * the official postgres:15 image runs it once from /docker-entrypoint-initdb.d
#     (POSTGRES_USER / POSTGRES_DB are set there and psql talks to the temporary
#     server over the default unix socket);
#   * compose/local/stack.sh runs it on every `up`, with PGHOST / PGPORT / PGUSER /
#     PGDATABASE pointing at the private cluster (and PSQL at its psql binary).
#
# For every service S it makes sure that:
#   * a LOGIN role S exists, with the password from $<S in upper case>_DB_PASSWORD
#     (re-applied on every run so that the password file and the database agree);
#   * schema S exists and is owned by role S, and S's search_path is S;
#   * S can reach nothing else: PUBLIC loses every right on schema public and
#     CREATE / TEMPORARY / CONNECT on the database; each role gets back CONNECT and
#     TEMPORARY only (temporary tables live in a private per-session schema, so
#     they cannot expose another service's data). No role is granted anything on
#     another service's schema, so `SELECT * FROM payment.t` as `registration`
#     fails with "permission denied for schema payment".
#   * btree_gist is installed in schema `extensions`, usable by scheduling only.
#
# Passwords never appear on a command line or inside the SQL text: psql reads
# them from the environment (\getenv, psql >= 15) and quotes them (:'password').

# The service roles. Role name == schema name; platform-bridge's is platform_bridge.
CONVENE_DB_ROLES=(gateway registration payment scheduling platform_bridge notification archive)

create_schemas_main() {
    local psql_bin="${PSQL:-psql}"

    # In the postgres image the entrypoint's superuser and database are
    # POSTGRES_USER / POSTGRES_DB; elsewhere the usual libpq variables win.
    export PGUSER="${PGUSER:-${POSTGRES_USER:-postgres}}"
    export PGDATABASE="${PGDATABASE:-${POSTGRES_DB:-$PGUSER}}"

    # \getenv appeared in psql 15; fail with a clear message rather than with a
    # confusing syntax error on an older client.
    local version major
    version="$("$psql_bin" --version)"            # e.g. "psql (PostgreSQL) 15.20 (Debian ...)"
    major="$(sed -E 's/^[^0-9]*([0-9]+).*/\1/' <<<"$version")"
    if [[ ! "$major" =~ ^[0-9]+$ ]] || (( major < 15 )); then
        echo "create-schemas.sh: needs psql 15 or newer (found: $version); set PSQL=/path/to/psql" >&2
        return 1
    fi

    # Check every password up front: a missing one is a configuration error and
    # must not leave half of the roles created.
    local role var missing=()
    for role in "${CONVENE_DB_ROLES[@]}"; do
        var="${role^^}_DB_PASSWORD"
        [[ -n "${!var:-}" ]] || missing+=("$var")
    done
    if (( ${#missing[@]} > 0 )); then
        echo "create-schemas.sh: missing environment variable(s): ${missing[*]}" >&2
        return 1
    fi

    # One psql session, one transaction (--single-transaction): either every role
    # and schema is in place afterwards or nothing changed.
    {
        cat <<'SQL'
SET client_min_messages = warning;   -- no "already exists, skipping" chatter
SELECT current_database() AS dbname \gset
-- Nobody gets anything by default: not the public schema, not new schemas,
-- not temporary tables, not even connecting (granted back per role below).
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE CREATE, TEMPORARY, CONNECT ON DATABASE :"dbname" FROM PUBLIC;
SQL
        for role in "${CONVENE_DB_ROLES[@]}"; do
            # Role names come from the fixed list above, never from input.
            printf '\\set role %s\n\\getenv password %s\n' "$role" "${role^^}_DB_PASSWORD"
            cat <<'SQL'
-- DO blocks cannot see psql variables, so hand the role name over as a
-- session setting and quote it with format('%I').
SELECT set_config('convene.role', :'role', false) \g /dev/null
DO $$
DECLARE
    r text := current_setting('convene.role');
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', r);
    END IF;
END
$$;
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'password';
ALTER ROLE :"role" SET search_path = :"role";
CREATE SCHEMA IF NOT EXISTS :"role" AUTHORIZATION :"role";
ALTER SCHEMA :"role" OWNER TO :"role";
REVOKE ALL ON SCHEMA :"role" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"dbname" TO :"role";
SQL
        done
        echo '\unset password'
        # btree_gist (scheduling's exclusion constraint against double-booked rooms: uuid
        # equality in a GiST index). Service roles have no CREATE on the database, so the
        # superuser installs it here, in a schema of its own that only scheduling may use.
        cat <<'SQL'
CREATE SCHEMA IF NOT EXISTS extensions;
REVOKE ALL ON SCHEMA extensions FROM PUBLIC;
CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA extensions;
GRANT USAGE ON SCHEMA extensions TO scheduling;
SQL
    } | "$psql_bin" -X -q -v ON_ERROR_STOP=1 --single-transaction --no-password -f -

    echo "create-schemas.sh: roles and schemas ready in database ${PGDATABASE}: ${CONVENE_DB_ROLES[*]}"
}

# The postgres image *sources* initdb scripts that are not executable; run in a
# subshell so that our shell options never leak into its entrypoint and a
# failure still fails the entrypoint (it runs with set -e).
( set -euo pipefail; create_schemas_main "$@" )
