import CSQLite
import Synchronization

/// A snapshot of how often the database changed; two equal stamps mean no commit in between.
struct ChangeStamp: Sendable, Equatable {
    let dataVersion: String
    let localCommits: Int
}

/// The queue's database: one writer connection behind a `Mutex`, and the transaction helpers
/// that every API call goes through.
///
/// Each public call is exactly one ``write(_:)`` or ``read(_:)``: `BEGIN IMMEDIATE` (or a deferred
/// read transaction), the body, `COMMIT`. Any error thrown by the body rolls the transaction back,
/// so a failed call changes nothing and no transaction is ever left open.
final class Store: Sendable {
    let path: String
    private let connection: Mutex<Connection>
    /// Write transactions committed through this store, so in-process changes are seen as soon
    /// as other processes' are (through `PRAGMA data_version`).
    private let commits = Atomic<Int>(0)

    /// Opens the database at `path`, applies the connection settings and migrates the schema.
    init(path: String, durability: QueueManager.Durability, vfs: String?, busyTimeout: Duration) throws(QueueError) {
        let connection = try Connection(path: path, vfs: vfs)
        sqlite3_busy_timeout(connection.handle, Int32(clamping: busyTimeout.milliseconds))
        try Store.configure(connection, durability: durability, path: path)
        try Migrator(connection: connection, path: path).migrate()
        self.path = path
        self.connection = Mutex(connection)
    }

    private static func configure(_ connection: Connection, durability: QueueManager.Durability, path: String) throws(QueueError) {
        // The first statement reads the header: a file that is not SQLite fails here.
        let mode: String?
        do throws(QueueError) {
            mode = try connection.pragma("journal_mode = WAL")
        } catch {
            throw Migrator.incompatible(path, error)
        }
        guard mode?.lowercased() == "wal" else {
            throw QueueError(.storage, "could not switch \(path) to WAL mode (journal_mode is \(mode ?? "unknown"))", value: path)
        }
        switch durability {
        case .full where Mutant.relaxedSynchronous.isActive: try connection.execute("PRAGMA synchronous = NORMAL")
        case .full: try connection.execute("PRAGMA synchronous = FULL")
        case .relaxed: try connection.execute("PRAGMA synchronous = NORMAL")
        }
        try connection.execute("PRAGMA foreign_keys = ON")
        _ = bgcopy_sqlite_db_config_flag(connection.handle, SQLITE_DBCONFIG_DEFENSIVE, 1)
        _ = bgcopy_sqlite_db_config_flag(connection.handle, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0)
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction and commits; rolls back if anything throws.
    func write<T: Sendable>(_ body: (Connection) throws(QueueError) -> T) throws(QueueError) -> T {
        let result = try connection.withLock { (db: inout Connection) throws(QueueError) -> T in
            try Store.transaction(db, begin: "BEGIN IMMEDIATE", body)
        }
        commits.add(1, ordering: .relaxed)
        return result
    }

    /// Changes whenever anyone — this process or another — commits to the database.
    func changeStamp() throws(QueueError) -> ChangeStamp {
        let version = try connection.withLock { (db: inout Connection) throws(QueueError) -> String? in
            try db.pragma("data_version")
        }
        return ChangeStamp(dataVersion: version ?? "", localCommits: commits.load(ordering: .relaxed))
    }

    /// Runs `body` in one read transaction: a consistent snapshot for everything it reads.
    func read<T: Sendable>(_ body: (Connection) throws(QueueError) -> T) throws(QueueError) -> T {
        try connection.withLock { (db: inout Connection) throws(QueueError) -> T in
            try Store.transaction(db, begin: "BEGIN DEFERRED", body)
        }
    }

    /// Whether a transaction is open between calls (never, if every helper cleaned up).
    var connectionIsInTransaction: Bool {
        connection.withLock { db in db.inTransaction }
    }

    private static func transaction<T>(_ db: Connection, begin: String, _ body: (Connection) throws(QueueError) -> T) throws(QueueError) -> T {
        try db.statement(begin).run()
        do throws(QueueError) {
            let result = try body(db)
            db.releaseStatements()
            try db.statement("COMMIT").run()
            db.releaseStatements()
            return result
        } catch {
            db.releaseStatements()
            if db.inTransaction { try? db.statement("ROLLBACK").run() }
            throw error
        }
    }
}
