import CSQLite
import Foundation
import Synchronization

/// Copies the write-ahead log back into the database on a thread and connection of its own, so
/// that no caller's commit waits for it.
///
/// SQLite's own checkpoint runs inside the `COMMIT` that crossed ``pages`` pages of log: that
/// batch's callers wait for every page to be written to the database and for its fsync. Here the
/// writer's log hook only wakes this thread, which runs a `PASSIVE` checkpoint: it copies what no
/// reader still needs while the writer goes on appending, and never waits for a lock. Should it
/// fall behind by ``fallbackPages`` (a long reader, a failing disk), the writer checkpoints in its
/// hook as SQLite would, so the log stays bounded.
///
/// The connection syncs as the writer does (`PRAGMA synchronous`), so a checkpoint is as durable
/// as SQLite's own: the database file is fsynced before any writer may start the log over.
final class Checkpointer: Sendable {
    /// SQLite's default `wal_autocheckpoint`.
    static let pages: Int32 = 1000
    /// Past this many pages of log the writer checkpoints itself.
    static let fallbackPages: Int32 = 16 * pages

    /// Used by the checkpointer's thread only, which closes it when it stops (so `nonisolated(unsafe)`
    /// is safe).
    nonisolated(unsafe) private var connection: Connection?
    private let wake = DispatchSemaphore(value: 0)
    /// Set while a wake-up is owed and not yet taken, so a burst of commits wakes the thread once.
    private let owed = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Opens the checkpointing connection to `path` (a migrated WAL database) and starts its thread.
    static func start(path: String, vfs: String?, synchronous: String) throws(QueueError) -> Checkpointer {
        let checkpointer = try Checkpointer(path: path, vfs: vfs, synchronous: synchronous)
        let thread = Thread { checkpointer.run() }
        thread.name = "BackgroundCopy.Checkpointer"
        thread.start()
        return checkpointer
    }

    private init(path: String, vfs: String?, synchronous: String) throws(QueueError) {
        let connection = try Connection(path: path, vfs: vfs)
        try connection.execute("PRAGMA synchronous = \(synchronous)")
        self.connection = connection
    }

    /// Installs the log hook on the writer's connection: after each commit SQLite reports how many
    /// pages the log holds. The hook holds this object unretained: the store keeps it alive for as
    /// long as the writer's connection is open.
    func watch(_ writer: Connection) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(writer.handle, { context, db, name, pages in
            guard let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue()
            if pages >= Checkpointer.fallbackPages || (pages >= Checkpointer.pages && checkpointer.stopping.load(ordering: .acquiring)) {
                // Behind, or closing: checkpoint here, as SQLite's own hook would. A checkpoint that
                // cannot finish now (busy, a failing disk) is tried again after the next commit.
                sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else if pages >= Checkpointer.pages, !checkpointer.owed.exchange(true, ordering: .acquiringAndReleasing) {
                checkpointer.wake.signal()
            }
            return SQLITE_OK
        }, context)
    }

    /// Stops the thread and closes its connection; the writer's hook checkpoints from then on.
    func close() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
        finished.wait()
    }

    private func run() {
        while true {
            wake.wait()
            if stopping.load(ordering: .acquiring) { break }
            owed.store(false, ordering: .releasing)
            // Busy (the writer's own fallback holds the checkpoint lock) or failed: the next
            // wake-up tries again, and the writer's fallback bounds the log meanwhile.
            if let handle = connection?.handle { sqlite3_wal_checkpoint_v2(handle, "main", SQLITE_CHECKPOINT_PASSIVE, nil, nil) }
        }
        connection = nil
        finished.signal()
    }
}
