import Contracts
import Logging

/// One numbered schema change: `0003_add_waitlist.sql` → version `0003`, name `add_waitlist`.
public struct Migration: Sendable, Equatable {
    public var version: String
    public var name: String
    public var sql: String

    public init(version: String, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Reads `NNNN_name.sql` files from a folder, in version order. Other files are ignored.
    public static func load(from directory: String) throws -> [Migration] {
        try FileListing.files(in: directory)
            .filter { $0.hasSuffix(".sql") && $0.first?.isNumber == true }
            .sorted()
            .map { file in
                let stem = String(file.dropLast(4))
                let parts = stem.split(separator: "_", maxSplits: 1)
                return Migration(version: String(parts[0]), name: parts.count > 1 ? String(parts[1]) : stem,
                                 sql: try FileListing.read(directory + "/" + file))
            }
    }

    /// A stable fingerprint of the SQL (FNV-1a), to notice a migration edited after it landed.
    var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// Applies migrations to a schema at start-up. An advisory lock makes concurrent starters of the
/// same service wait for each other; each migration runs in its own transaction together with its
/// row in `schema_migrations`, so a failed one leaves nothing behind.
public struct Migrator: Sendable {
    let pool: PGPool
    let logger: Logger

    public init(pool: PGPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// Convene's own tables first (outbox, inbox, …), then the service's.
    public func migrate(_ migrations: [Migration]) async throws {
        let all = RuntimeMigrations.all + migrations
        let versions = all.map(\.version)
        guard Set(versions).count == versions.count else {
            throw ConveneError(code: "migration.duplicate_version", message: "two migrations share a version: \(versions)")
        }
        let schema = pool.schema
        try await pool.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(hashtext($1))", [.text("convene.migrate.\(schema)")])
            do {
                try await apply(all, on: connection)
                try await connection.query("SELECT pg_advisory_unlock(hashtext($1))", [.text("convene.migrate.\(schema)")])
            } catch {
                _ = try? await connection.query("ROLLBACK")
                _ = try? await connection.query("SELECT pg_advisory_unlock(hashtext($1))", [.text("convene.migrate.\(schema)")])
                throw error
            }
        }
    }

    private func apply(_ migrations: [Migration], on connection: PGConnection) async throws {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version text PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var applied: [String: String] = [:]
        for row in try await connection.query("SELECT version, checksum FROM schema_migrations").rows {
            applied[try row.string("version")] = try row.string("checksum")
        }
        for migration in migrations {
            if let checksum = applied[migration.version] {
                if checksum != migration.checksum {
                    throw ConveneError(code: "migration.edited",
                                       message: "migration \(migration.version)_\(migration.name) changed after it was applied; add a new migration instead")
                }
                continue
            }
            try await connection.query("BEGIN")
            try await connection.execute(script: migration.sql)
            try await connection.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                       [.text(migration.version), .text(migration.name), .text(migration.checksum)])
            try await connection.query("COMMIT")
            logger.info("migration applied", metadata: ["schema": "\(pool.schema)", "version": "\(migration.version)", "name": "\(migration.name)"])
        }
    }
}

/// Tables every service has, owned by the runtime rather than by any one service. Versions
/// start with `r` so they never collide with a service's `NNNN`.
enum RuntimeMigrations {
    static let all: [Migration] = [
        Migration(version: "r0001", name: "outbox_inbox", sql: """
            CREATE TABLE outbox (
                id bigserial PRIMARY KEY,
                message_id uuid NOT NULL UNIQUE,
                exchange text NOT NULL,
                routing_key text NOT NULL,
                message_type text NOT NULL,
                correlation_id text,
                reply_to text,
                body bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                published_at timestamptz,
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT now(),
                last_error text
            );
            CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
            CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

            -- Wakes the relay at commit time instead of waiting for its next poll.
            CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
                RETURN NULL;
            END $$;
            CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
                FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

            CREATE TABLE inbox (
                consumer text NOT NULL,
                message_id uuid NOT NULL,
                message_type text NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now(),
                response bytea,
                PRIMARY KEY (consumer, message_id)
            );
            CREATE INDEX inbox_received_at ON inbox (received_at);
            """),
    ]
}
