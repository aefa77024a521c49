import CSQLite
import Foundation

/// Read-only WAL connections, opened as needed up to a limit and reused.
///
/// In WAL mode a reader sees the last commit made before its transaction began and never waits
/// for the writer, its fsync, or another process's write lock; readers wait only for each other
/// when all `capacity` connections are busy.
final class ReaderPool: @unchecked Sendable {
    // `@unchecked Sendable`: `idle` and `opened` are only touched with `condition` locked; a
    // connection taken from `idle` is used by one thread until it is given back.
    private let condition = NSCondition()
    private var idle: [Connection] = []
    private var opened = 0
    private let capacity: Int
    private let open: () throws(QueueError) -> Connection

    init(capacity: Int, open: @escaping () throws(QueueError) -> Connection) {
        self.capacity = max(1, capacity)
        self.open = open
    }

    /// Runs `body` in one read transaction on a pooled connection.
    func read<T>(_ body: (Connection) throws(QueueError) -> T) throws(QueueError) -> T {
        let db = try take()
        defer { give(db) }
        try db.statement("BEGIN DEFERRED").run()
        do throws(QueueError) {
            let result = try body(db)
            db.releaseStatements()
            try db.statement("COMMIT").run()
            db.releaseStatements()
            return result
        } catch {
            db.releaseStatements()
            if db.inTransaction { try? db.statement("ROLLBACK").run() }  // a read changed nothing; the body's error is rethrown
            db.releaseStatements()
            throw error
        }
    }

    /// Closes every idle connection (the pool is not used again).
    func close() {
        condition.lock()
        idle.removeAll()
        condition.unlock()
    }

    private func take() throws(QueueError) -> Connection {
        condition.lock()
        while idle.isEmpty && opened >= capacity { condition.wait() }
        if let db = idle.popLast() {
            condition.unlock()
            return db
        }
        opened += 1
        condition.unlock()
        do throws(QueueError) {
            return try open()
        } catch {
            condition.lock()
            opened -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func give(_ db: Connection) {
        condition.lock()
        idle.append(db)
        condition.signal()
        condition.unlock()
    }
}
