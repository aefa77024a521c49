import Logging
import PostgresNIO

/// Brings a PostgreSQL database to the latest schema of `Schema/postgres/` (embedded at build time
/// as `EmbeddedPostgresSchema`), forward only, and refuses databases that are not ours.
///
/// The version is kept in a `schema_version` table (one row per applied migration: version, file
/// name, when) — the counterpart of SQLite's `PRAGMA user_version`; it is the migrator's own
/// bookkeeping, not part of the schema files. Everything runs in the caller's transaction under a
/// transaction-scoped advisory lock, so hosts starting together migrate once, one after another.
/// A database that already holds tables but no `schema_version` is another application's and is
/// refused with `incompatibleDatabase`, as is one whose version is newer than this library knows.
struct PostgresMigrator {
    /// The advisory lock key all BackgroundCopy migrators take ("BCOP", as SQLite's application ID).
    static let lockKey: Int64 = 0x4243_4F50

    let connection: PostgresConnection
    let logger: Logger
    var migrations: [Migration] = EmbeddedPostgresSchema.migrations

    /// The newest schema version this library knows.
    static var latestVersion: Int { EmbeddedPostgresSchema.migrations.count }

    func migrate() async throws(QueueError) {
        try await connection.run("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
        let tracked = try await connection.run("SELECT to_regclass('schema_version') IS NOT NULL", logger: logger)
        if try tracked.first?.value(Bool.self) != true {
            let tables = try await connection.run(
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()", logger: logger)
            let count = try tables.first?.value(Int64.self) ?? 0
            guard count == 0 else {
                throw QueueError(
                    .incompatibleDatabase,
                    "the PostgreSQL database holds \(count) table(s) but no schema_version: it is not a BackgroundCopy queue",
                    value: "schema_version")
            }
            try await connection.run(
                """
                CREATE TABLE schema_version (
                    version    integer     PRIMARY KEY CHECK (version > 0),
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
        }
        let current = try await connection.run("SELECT coalesce(max(version), 0)::bigint FROM schema_version", logger: logger)
        let version = Int(try current.first?.value(Int64.self) ?? 0)
        guard version <= migrations.count else {
            throw QueueError(
                .incompatibleDatabase,
                "the PostgreSQL queue has schema version \(version); this library knows versions up to \(migrations.count) — use a newer BackgroundCopy",
                value: "\(version)")
        }
        for migration in migrations where migration.version > version {
            for statement in SQLScript.statements(migration.sql) {
                do throws(QueueError) {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                } catch {
                    throw QueueError(
                        .storage, "migration postgres/\(migration.name) failed: \(error.message)",
                        value: migration.name, sql: statement)
                }
            }
            let number = Int32(migration.version)
            let name = migration.name
            try await connection.run("INSERT INTO schema_version (version, name) VALUES (\(number), \(name))", logger: logger)
            logger.info("applied PostgreSQL schema migration", metadata: ["migration": "\(name)"])
        }
    }
}

/// Splits a migration file into its statements, since postgres-nio sends each query as one
/// prepared statement (the extended protocol), which holds exactly one statement.
///
/// A `;` ends a statement unless it is inside a `--` or `/* */` comment, a `'…'` string, a
/// `"…"` identifier or a `$tag$…$tag$` body. Comments are kept with the statement that follows
/// them; statements that are only comments and blanks are dropped.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var hasCode = false
        var index = 0
        func take(_ count: Int) {
            current.append(contentsOf: characters[index..<min(index + count, characters.count)])
            index += count
        }
        func takeUntil(_ end: [Unicode.Scalar]) {
            while index < characters.count {
                if characters[index...].starts(with: end) { take(end.count); return }
                take(1)
            }
        }
        while index < characters.count {
            let scalar = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            switch scalar {
            case "-" where next == "-":
                takeUntil(["\n"])
            case "/" where next == "*":
                take(2)
                takeUntil(["*", "/"])
            case "'", "\"":
                hasCode = true
                take(1)
                takeUntil([scalar])
            case "$":
                hasCode = true
                var end = index + 1
                while end < characters.count, characters[end] == "_" || characters[end].properties.isAlphabetic { end += 1 }
                if end < characters.count, characters[end] == "$" {
                    let tag = Array(characters[index...end])
                    take(tag.count)
                    takeUntil(tag)
                } else {
                    take(1)
                }
            case ";":
                index += 1
                if hasCode { statements.append(String(current).trimmingWhitespace()) }
                current = String.UnicodeScalarView()
                hasCode = false
            default:
                if !scalar.properties.isWhitespace { hasCode = true }
                take(1)
            }
        }
        if hasCode { statements.append(String(current).trimmingWhitespace()) }
        return statements
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
