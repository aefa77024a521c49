import CSQLite

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe by itself: ``Store`` keeps it behind a `Mutex`, so only one caller at a time
/// reaches it. Every failure is a ``QueueError`` with code `storage`, carrying SQLite's result
/// code and the SQL that failed.
final class Connection {
    let handle: OpaquePointer
    /// The database file, named by corruption errors.
    let path: String
    private var cache: [String: Statement] = [:]
    /// Statements handed out since the last ``releaseStatements()``; a statement left on a row
    /// holds its read open, so every one is reset before the transaction ends.
    private var handedOut: [Statement] = []

    /// Opens (or creates) the database at `path` through the named VFS (`nil`: SQLite's default).
    init(path: String, vfs: String?, readOnly: Bool = false) throws(QueueError) {
        var db: OpaquePointer?
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, vfs)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw .storage(resultCode: rc, message: message, sql: "open \(path)")
        }
        handle = db
        self.path = path
    }

    /// How long a statement waits for another connection's lock before it fails with `SQLITE_BUSY`.
    func setBusyTimeout(_ timeout: Duration) {
        sqlite3_busy_timeout(handle, Int32(clamping: timeout.milliseconds))
    }

    deinit {
        handedOut.removeAll()
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows the caller needs.
    func execute(_ sql: String) throws(QueueError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
    }

    /// The cached prepared statement for `sql`, reset and with its bindings cleared.
    func statement(_ sql: String) throws(QueueError) -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            handedOut.append(cached)
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw error(rc, sql: sql) }
        let statement = Statement(raw, connection: self, sql: sql)
        cache[sql] = statement
        handedOut.append(statement)
        return statement
    }

    /// Resets every statement handed out since the last call.
    func releaseStatements() {
        for statement in handedOut { statement.reset() }
        handedOut.removeAll(keepingCapacity: true)
    }

    /// Reads one value of a pragma (or any single-value query), as text.
    func pragma(_ name: String) throws(QueueError) -> String? {
        let statement = try statement("PRAGMA \(name)")
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// The rowid of the last successful INSERT on this connection.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes64(handle)) }

    /// Rows changed by every INSERT, UPDATE and DELETE since the connection opened.
    var totalChanges: Int64 { sqlite3_total_changes64(handle) }

    /// Whether a transaction is open on this connection.
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// The error for result code `rc`, with the connection's message and the failing SQL: `corrupt`
    /// naming the file for a damaged database, `storage` for everything else.
    func error(_ rc: Int32, sql: String) -> QueueError {
        let code = sqlite3_extended_errcode(handle)
        let message = String(cString: sqlite3_errmsg(handle))
        switch code & 0xFF {
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return QueueError(
                .corrupt, "\(path) is damaged: \(message) — run `bgcopy check`, restore a backup or start a new queue",
                value: path, sqliteResultCode: code, sql: sql)
        default:
            return .storage(resultCode: code, message: message, sql: sql)
        }
    }
}
