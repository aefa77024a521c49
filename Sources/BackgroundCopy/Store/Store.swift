import CSQLite
import Dispatch
import Synchronization

/// A snapshot of how often the database changed; two equal stamps mean no commit in between.
struct ChangeStamp: Sendable, Equatable {
    let dataVersion: String
    let localCommits: Int
}

/// The queue's database: one ``Writer`` that commits calls in batches, a ``ReaderPool`` whose
/// reads never wait for it, and the change signals the engine and event streams watch.
///
/// Each API call is exactly one ``write(_:)`` or ``read(_:)``. A write runs in its own savepoint
/// of a batch transaction and returns after that batch's durable `COMMIT`; a body that throws
/// leaves nothing behind. A read is one read transaction: a consistent snapshot of the last commit.
/// Both exist in a blocking form (for simple hosts and the CLI) and an `async` form that suspends
/// instead; blocking SQLite work runs on the writer thread or a dispatch queue, never on the
/// caller's task.
final class Store: Sendable {
    let path: String
    private let writer: Writer
    private let readers: ReaderPool
    /// A connection of its own for `PRAGMA data_version`, which changes when any other connection
    /// — this store's writer or another process — commits.
    private let watcher: Mutex<Connection?>
    private let notifier: CommitNotifier
    private static let readQueue = DispatchQueue(label: "BackgroundCopy.Readers", attributes: .concurrent)

    /// Opens the database at `path`, applies the connection settings and migrates the schema.
    /// Nothing is written to a file before it is known to be a queue (or empty). `metrics`, if any,
    /// counts and times the writer's commits.
    init(
        path: String, durability: QueueManager.Durability, vfs: String?, busyTimeout: Duration, readers: Int = 4,
        metrics: StoreMetrics? = nil
    ) throws(QueueError) {
        let connection = try Connection(path: path, vfs: vfs)
        connection.setBusyTimeout(busyTimeout)
        try Migrator(connection: connection, path: path).checkOwnership()
        try Store.configure(connection, durability: durability, path: path)
        try Migrator(connection: connection, path: path).migrate()
        let openReader = { () throws(QueueError) -> Connection in
            let reader = try Connection(path: path, vfs: vfs, readOnly: true)
            reader.setBusyTimeout(busyTimeout)
            try Store.configureReader(reader, durability: durability)
            return reader
        }
        let watcher = try openReader()
        let notifier = CommitNotifier()
        self.path = path
        self.readers = ReaderPool(capacity: readers, open: openReader)
        self.watcher = Mutex(watcher)
        self.notifier = notifier
        self.writer = Writer(connection: connection, metrics: metrics, committed: notifier.publish)
    }

    /// Readers close first, the writer last: the last connection to close checkpoints the WAL
    /// into the database and removes it, which only a connection that may write can do.
    deinit {
        readers.close()
        watcher.withLock { $0 = nil }
        writer.close()
        notifier.finish()
    }

    // MARK: Writes

    /// Runs `body` in the next batch transaction; returns once that batch's commit is durable.
    /// A `body` that throws leaves nothing behind; a failed commit throws to every call in it.
    ///
    /// A `quiet` write is one of the engine's own steps of a transfer: its commit wakes event streams
    /// but not the engine (``wakeups(every:includingQuiet:)``).
    func write<T: Sendable>(quiet: Bool = false, _ body: (Connection) throws(QueueError) -> T) throws(QueueError) -> T {
        try writer.write(quiet: quiet, body)
    }

    /// The `async` form of ``write(_:)``: suspends, never blocks, while it waits for the writer.
    func write<T: Sendable>(quiet: Bool = false, _ body: @escaping @Sendable (Connection) throws(QueueError) -> T) async throws(QueueError) -> T {
        try await writer.write(quiet: quiet, body)
    }

    // MARK: Reads

    /// Runs `body` in one read transaction on a pooled reader: a consistent snapshot of the last
    /// commit, taken without waiting for the writer.
    func read<T: Sendable>(_ body: (Connection) throws(QueueError) -> T) throws(QueueError) -> T {
        try readers.read(body)
    }

    /// The `async` form of ``read(_:)``: the read runs on a dispatch queue while the task suspends;
    /// `body` is released before the task resumes (``Handoff``).
    func read<T: Sendable>(_ body: @escaping @Sendable (Connection) throws(QueueError) -> T) async throws(QueueError) -> T {
        let readers = readers
        // The body often holds the queue (a ledger, a handle): it must not outlive the read.
        let read = Handoff { () -> Result<T, QueueError> in Result { () throws(QueueError) -> T in try readers.read(body) } }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, QueueError>, Never>) in
            Store.readQueue.async { continuation.resume(returning: read.run()) }
        }
        return try result.get()
    }

    // MARK: Change signals

    /// Changes whenever anyone — this process or another — commits to the database.
    func changeStamp() throws(QueueError) -> ChangeStamp {
        let version = try watcher.withLock { (db: inout Connection?) throws(QueueError) -> String? in
            try db?.pragma("data_version")
        }
        return ChangeStamp(dataVersion: version ?? "", localCommits: notifier.count)
    }

    /// A wake-up after each commit of this process (its quiet ones too if `includingQuiet`) and
    /// one every `interval`, the poll that finds other processes' commits; ends when the store closes.
    func wakeups(every interval: Duration, includingQuiet: Bool = true) -> AsyncStream<Void> {
        notifier.wakeups(every: interval, includingQuiet: includingQuiet)
    }

    /// Returns the first stamp that differs from `stamp`: at once after a commit of this process,
    /// within `pollInterval` after another process's.
    /// - Throws: `invalidState` if the calling task is cancelled or the store closes meanwhile;
    ///   `storage` if the database fails.
    func waitForChange(since stamp: ChangeStamp, pollInterval: Duration) async throws(QueueError) -> ChangeStamp {
        var wakeups = notifier.wakeups(every: pollInterval).makeAsyncIterator()
        while true {
            let now = try changeStamp()
            if now != stamp { return now }
            guard !Task.isCancelled else { throw QueueError(.invalidState, "waiting for a change was cancelled") }
            guard await wakeups.next() != nil || Task.isCancelled else {
                throw QueueError(.invalidState, "the queue at \(path) closed while waiting for a change", value: path)
            }
        }
    }

    // MARK: Connection settings

    private static func configure(_ connection: Connection, durability: QueueManager.Durability, path: String) throws(QueueError) {
        let mode: String?
        do throws(QueueError) {
            mode = try connection.pragma("journal_mode = WAL")
        } catch {
            throw Migrator.incompatible(path, error)
        }
        guard mode?.lowercased() == "wal" else {
            throw QueueError(.storage, "could not switch \(path) to WAL mode (journal_mode is \(mode ?? "unknown"))", value: path)
        }
        try connection.execute("PRAGMA synchronous = \(synchronous(durability))")
        try connection.execute("PRAGMA foreign_keys = ON")
        // Savepoints of a batch keep their undo pages in memory, not in a temporary file.
        try connection.execute("PRAGMA temp_store = MEMORY")
        _ = bgcopy_sqlite_db_config_flag(connection.handle, SQLITE_DBCONFIG_DEFENSIVE, 1)
        _ = bgcopy_sqlite_db_config_flag(connection.handle, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0)
    }

    private static func configureReader(_ connection: Connection, durability: QueueManager.Durability) throws(QueueError) {
        try connection.execute("PRAGMA synchronous = \(synchronous(durability))")
        try connection.execute("PRAGMA foreign_keys = ON")
        try connection.execute("PRAGMA query_only = 1")
        _ = bgcopy_sqlite_db_config_flag(connection.handle, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0)
    }

    private static func synchronous(_ durability: QueueManager.Durability) -> String {
        switch durability {
        case .full where Mutant.relaxedSynchronous.isActive: "NORMAL"
        case .full: "FULL"
        case .relaxed: "NORMAL"
        }
    }
}
