/// One numbered migration from `Schema/` (embedded at build time by the EmbedSchema plugin).
struct Migration: Sendable {
    let version: Int
    let name: String
    let sql: String
}

/// Brings a database to the latest schema, forward only, and refuses files that are not ours.
///
/// The schema version is `PRAGMA user_version`; `PRAGMA application_id` marks the file as a
/// BackgroundCopy queue. The check and every pending migration run in one `BEGIN IMMEDIATE`
/// transaction, so two processes opening a new file at once cannot both migrate it.
struct Migrator {
    /// "BCOP": the application ID written into every queue database.
    static let applicationID: Int64 = 0x4243_4F50

    let connection: Connection
    let path: String
    var migrations: [Migration] = EmbeddedSchema.migrations

    /// The newest schema version this library knows.
    static var latestVersion: Int { EmbeddedSchema.migrations.count }

    /// Reads, without writing anything, whether the file is a queue (or an empty new file), so a
    /// foreign database is refused before even its journal mode is touched.
    func checkOwnership() throws(QueueError) {
        do throws(QueueError) {
            try verifyOwnership()
        } catch {
            throw Migrator.incompatible(path, error)
        }
    }

    func migrate() throws(QueueError) {
        try connection.execute("BEGIN IMMEDIATE")
        do throws(QueueError) {
            let (version, applicationID) = try verifyOwnership()
            let latest = migrations.count
            guard version <= latest else {
                throw QueueError(
                    .incompatibleDatabase,
                    "\(path) has schema version \(version); this library knows versions up to \(latest) — open it with a newer BackgroundCopy",
                    value: path)
            }
            for migration in migrations where migration.version > version {
                do throws(QueueError) {
                    try connection.execute(migration.sql)
                } catch {
                    throw QueueError(
                        .storage, "migration \(migration.name) failed on \(path): \(error.message)",
                        value: migration.name, sqliteResultCode: error.sqliteResultCode, sql: error.sql)
                }
                try connection.execute("PRAGMA user_version = \(migration.version)")
            }
            if applicationID != Migrator.applicationID {
                try connection.execute("PRAGMA application_id = \(Migrator.applicationID)")
            }
            try connection.execute("COMMIT")
        } catch {
            if connection.inTransaction {
                try? connection.execute("ROLLBACK")  // the error thrown next is the one that matters; a failed rollback ends with the connection
            }
            throw Migrator.incompatible(path, error)
        }
    }

    /// The file's schema version and application ID, if it is a queue or an empty file; throws
    /// `incompatibleDatabase` if it is another application's database.
    @discardableResult
    private func verifyOwnership() throws(QueueError) -> (version: Int, applicationID: Int64) {
        let version = try Int(connection.pragma("user_version") ?? "0") ?? 0
        let applicationID = try Int64(connection.pragma("application_id") ?? "0") ?? 0
        if applicationID != Migrator.applicationID {
            let objects = try connection.pragma("schema_version").flatMap(Int.init) ?? 0
            guard applicationID == 0, version == 0, objects == 0 else {
                throw QueueError(
                    .incompatibleDatabase,
                    "\(path) is not a BackgroundCopy queue database (application_id \(applicationID), user_version \(version))",
                    value: path)
            }
        }
        return (version, applicationID)
    }

    /// Turns "this is not a database" into `incompatibleDatabase` and "this database is damaged" into
    /// `corrupt`, both naming the file.
    static func incompatible(_ path: String, _ error: QueueError) -> QueueError {
        guard error.code == .storage || error.code == .corrupt, let rc = error.sqliteResultCode else { return error }
        switch rc & 0xFF {
        case 26:  // SQLITE_NOTADB
            return QueueError(.incompatibleDatabase, "\(path) is not an SQLite database", value: path, sqliteResultCode: rc)
        case 11:  // SQLITE_CORRUPT
            return QueueError(
                .corrupt, "\(path) is damaged: \(error.message) — run `bgcopy check`, restore a backup or start a new queue",
                value: path, sqliteResultCode: rc)
        default:
            return error
        }
    }
}
