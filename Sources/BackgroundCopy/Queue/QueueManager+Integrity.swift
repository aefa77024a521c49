extension QueueManager {
    /// Checks the database file for corruption: SQLite's `PRAGMA integrity_check` (every page,
    /// index and constraint) and `PRAGMA foreign_key_check`, in one read transaction on a reader,
    /// so it sees one snapshot and never waits for a write. It reads the whole file: seconds for a
    /// large queue.
    ///
    /// A database too damaged to open already failed at ``init(path:configuration:logger:)``; this
    /// finds damage that opening does not touch.
    ///
    /// - Returns: The problems found, one line each as SQLite words them; empty if the database is sound.
    /// - Throws: `storage` (or `corrupt`) if the database cannot be read at all.
    public func checkIntegrity() throws(QueueError) -> [String] {
        try core.store.read { db throws(QueueError) in try Self.integrityProblems(db) }
    }

    /// The `async` form of ``checkIntegrity()``: suspends instead of blocking while the check runs.
    public func checkIntegrity() async throws(QueueError) -> [String] {
        try await core.store.read { db throws(QueueError) in try Self.integrityProblems(db) }
    }

    private static func integrityProblems(_ db: Connection) throws(QueueError) -> [String] {
        var problems: [String] = []
        let integrity = try db.statement("PRAGMA integrity_check")
        while try integrity.step() {
            let line = integrity.text(0)
            if line != "ok" { problems.append(line) }
        }
        let foreignKeys = try db.statement("PRAGMA foreign_key_check")
        while try foreignKeys.step() {
            problems.append("row \(foreignKeys.int64(1)) of table \(foreignKeys.text(0)) refers to a missing row of \(foreignKeys.text(2))")
        }
        return problems
    }
}
