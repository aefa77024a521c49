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
        try core.store.read { db throws(QueueError) in try db.integrityProblems() }
    }

    /// The `async` form of ``checkIntegrity()``: suspends instead of blocking while the check runs.
    public func checkIntegrity() async throws(QueueError) -> [String] {
        try await core.store.read { db throws(QueueError) in try db.integrityProblems() }
    }
}
