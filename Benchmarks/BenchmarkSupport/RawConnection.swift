import BackgroundCopy
import CSQLite

/// The ceiling: a sqlite3 connection driven through the C API with nothing in between. It opens
/// the database with the library's flags and settings (WAL, the same `synchronous`, foreign keys,
/// defensive mode), and its statements are prepared once, up front, by whoever uses it.
package final class RawConnection {
    package let handle: OpaquePointer

    /// Opens `path` as the library's ``QueueManager`` would for `durability`.
    package init(path: String, durability: QueueManager.Durability) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK, let db else { fatalError("cannot open \(path)") }
        handle = db
        sqlite3_busy_timeout(db, 5000)
        execute("PRAGMA journal_mode = WAL")
        execute(durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
        execute("PRAGMA foreign_keys = ON")
        _ = bgcopy_sqlite_db_config_flag(db, SQLITE_DBCONFIG_DEFENSIVE, 1)
        _ = bgcopy_sqlite_db_config_flag(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs SQL that returns nothing the caller needs; stops the benchmark on any error.
    package func execute(_ sql: String) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { fatalError("\(sql): \(String(cString: sqlite3_errmsg(handle)))") }
    }

    /// Prepares a statement to keep for the connection's lifetime.
    package func prepare(_ sql: String) -> RawStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { fatalError("\(sql): \(String(cString: sqlite3_errmsg(handle)))") }
        return RawStatement(statement, connection: handle)
    }
}

/// A prepared statement: bind by 1-based position, step, read 0-based columns, reset.
package struct RawStatement {
    let handle: OpaquePointer
    let connection: OpaquePointer

    init(_ handle: OpaquePointer, connection: OpaquePointer) {
        self.handle = handle
        self.connection = connection
    }

    package func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    package func bind(_ index: Int32, _ value: String) { sqlite3_bind_text(handle, index, value, -1, bgcopy_sqlite_transient()) }

    package func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }

    package func bind(_ index: Int32, bytes: UnsafeRawBufferPointer) {
        sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), bgcopy_sqlite_transient())
    }

    /// `true` on a row, `false` when done; stops the benchmark on an error.
    @discardableResult
    package func step() -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: fatalError("step: \(String(cString: sqlite3_errmsg(connection)))")
        }
    }

    /// Steps to completion and resets.
    package func run() {
        while step() {}
        reset()
    }

    package func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    package func text(_ column: Int32) -> String { sqlite3_column_text(handle, column).map { String(cString: $0) } ?? "" }

    package func blob(_ column: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, column), count: Int(sqlite3_column_bytes(handle, column)))
    }

    package func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }
}
