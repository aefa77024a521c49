import BackgroundCopy
import CSQLite
import Foundation

/// The queue operations as the library's SQL issued straight through the C API: the same
/// statements, in the same transactions, with the same values — and no Swift layer in between
/// beyond binding them. Each library/raw pair of benchmarks compares against this ceiling.
package final class RawQueue {
    let db: RawConnection
    let begin: RawStatement
    let beginRead: RawStatement
    let commit: RawStatement
    let insertEvent: RawStatement
    let liveGroup: RawStatement

    /// Opens `path` with the library's settings for `durability`.
    package init(path: String, durability: QueueManager.Durability) {
        db = RawConnection(path: path, durability: durability)
        begin = db.prepare("BEGIN IMMEDIATE")
        beginRead = db.prepare("BEGIN DEFERRED")
        commit = db.prepare("COMMIT")
        insertEvent = db.prepare(
            """
            INSERT INTO events (at, group_id, job_id, file_index, kind, state, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        liveGroup = db.prepare("SELECT id, state, priority FROM groups WHERE uuid = ? AND state <> 'cancelled'")
    }

    /// Runs `body` between `BEGIN IMMEDIATE` and `COMMIT`.
    func write<T>(_ body: () -> T) -> T {
        begin.run()
        let result = body()
        commit.run()
        return result
    }

    /// Runs `body` between `BEGIN DEFERRED` and `COMMIT`.
    func read<T>(_ body: () -> T) -> T {
        beginRead.run()
        let result = body()
        commit.run()
        return result
    }

    /// The live group's row ID and state, as `QueueCore.liveGroup` reads them.
    func group(_ id: GroupID) -> (rowID: Int64, state: String) {
        withUnsafeBytes(of: id.uuid.uuid) { liveGroup.bind(1, bytes: $0) }
        guard liveGroup.step() else { fatalError("group \(id) not found") }
        let row = (liveGroup.int64(0), liveGroup.text(1))
        liveGroup.reset()
        return row
    }

    /// One row of the events outbox, as `EventLog.record` writes it.
    func event(_ kind: String, group: Int64, job: Int64? = nil, fileIndex: Int64? = nil, state: String, detail: String = "", at now: Int64) {
        insertEvent.bind(1, now)
        insertEvent.bind(2, group)
        if let job { insertEvent.bind(3, job) } else { insertEvent.bindNull(3) }
        if let fileIndex { insertEvent.bind(4, fileIndex) } else { insertEvent.bindNull(4) }
        insertEvent.bind(5, kind)
        insertEvent.bind(6, state)
        insertEvent.bind(7, detail)
        insertEvent.run()
    }

    /// Wall-clock Unix milliseconds, as the library stamps rows.
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

/// `sqlite3_last_insert_rowid` of the queue's connection.
func sqlite3LastInsertRowID(_ queue: RawQueue) -> Int64 { sqlite3_last_insert_rowid(queue.db.handle) }

/// `sqlite3_changes64` of the queue's connection.
func sqlite3Changes(_ queue: RawQueue) -> Int64 { sqlite3_changes64(queue.db.handle) }
