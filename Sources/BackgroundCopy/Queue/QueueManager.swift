import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A durable background transfer queue kept in one SQLite file (QMGR: IBackgroundCopyQMgr).
///
/// Open one per database file and share it: it is `Sendable`, and every call is one ACID
/// transaction, so a call that throws has changed nothing and one that returns is durable.
///
/// ```swift
/// let manager = try QueueManager(path: "/var/lib/myapp/queue.sqlite")
/// let group = try manager.createGroup(properties: GroupProperties(displayName: "nightly"))
/// let job = try group.createJob()
/// try job.addFiles([FileSpec(remote: "https://example.com/a.bin", local: "/srv/cache/a.bin")])
/// try group.resume()
/// ```
public final class QueueManager: Sendable {
    /// The database file's path.
    public let path: String
    /// The settings the queue was opened with.
    public let configuration: Configuration
    let core: QueueCore

    /// Opens the queue at `path`, creating it (mode 0600) if it does not exist, migrating it to the
    /// current schema and finishing file clean-ups a crash interrupted.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - configuration: Settings fixed for as long as the queue is open.
    ///   - logger: Where the queue logs, at info level or below only (swift-log's rule for
    ///     libraries). By default `Logger.current`: the logger of the enclosing `withLogger` scope.
    ///     Outside any such scope the queue logs nothing — swift-log's unbound default (the logger
    ///     with the empty label) would print on stderr of a host that never chose to log.
    /// - Throws: `incompatibleDatabase` if the file is not a BackgroundCopy queue, is corrupt, or
    ///   has a newer schema; `storage` if SQLite cannot open it; `fileSystem` if it cannot be created.
    public convenience init(path: String, configuration: Configuration = Configuration(), logger: Logger = Logger.current) throws(QueueError) {
        try self.init(path: path, configuration: configuration, fileSystem: PosixFileSystem(), logger: Self.chosen(logger))
    }

    /// `logger`, unless it is swift-log's unbound task-local default (empty label), which becomes silent.
    static func chosen(_ logger: Logger) -> Logger {
        guard logger.label.isEmpty else { return logger }
        return Logger(label: "BackgroundCopy") { _ in SwiftLogNoOpLogHandler() }
    }

    /// Opens the queue as ``init(path:configuration:logger:)`` does, with every file-system call
    /// going through `fileSystem` (tests and the crash harness inject faults and crashes there).
    package init(path: String, configuration: Configuration, fileSystem: any FileSystem, logger: Logger) throws(QueueError) {
        try QueueManager.createIfMissing(path, fileSystem: fileSystem)
        let store = try Store(
            path: path, durability: configuration.durability, vfs: configuration.sqliteVFS, busyTimeout: configuration.busyTimeout,
            metrics: StoreMetrics(factory: configuration.metricsFactory, durability: configuration.durability))
        // The database's own name, and the unlink of the rollback journal SQLite used to switch a
        // new database to WAL, are directory entries: without this fsync a power loss could bring
        // the journal back, roll the switch back and orphan every commit in the WAL.
        if !Mutant.skipDatabaseDirectoryFsync.isActive {
            try fileSystem.fsyncDirectory(path.contains("/") ? path.parentDirectory : ".")
        }
        self.path = path
        self.configuration = configuration
        self.core = QueueCore(store: store, configuration: configuration, fileSystem: fileSystem, logger: logger)
        // With no engine running on this database, the transfers it left half-done are ours to put back.
        let lock = try? EngineLock(database: path)  // taken means another engine runs: recovery of transfers is its job
        try Reconciler(core: core).recoverOnOpen(transfers: lock != nil)
        withExtendedLifetime(lock) {}
    }

    /// Creates the file with mode 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    private static func createIfMissing(_ path: String, fileSystem: any FileSystem) throws(QueueError) {
        do throws(QueueError) {
            fileSystem.close(try fileSystem.open(path, exclusive: true))
        } catch let error where error.systemError == EEXIST {}
    }

    /// The engine's store operations (claim, checkpoint, finalize, complete), for the benchmarks.
    package var transferLedger: TransferLedger { TransferLedger(core: core) }

    /// Creates a new, suspended group (QMGR: CreateGroup).
    ///
    /// - Parameters:
    ///   - id: The group's ID; a new random one if `nil`.
    ///   - properties: Its properties, validated before anything is written.
    /// - Throws: `alreadyExists` if a live or cancelled group has `id`; `invalidArgument` naming a bad property.
    @discardableResult
    public func createGroup(id: GroupID? = nil, properties: GroupProperties) throws(QueueError) -> Group {
        try core.validator.validate(properties)
        let id = id ?? GroupID()
        let now = core.now()
        try core.store.write { db throws(QueueError) in try db.createGroup(id, properties, at: now) }
        return Group(id: id, core: core)
    }

    /// Opens a live group (QMGR: GetGroup).
    ///
    /// - Throws: `notFound` if no group has `id`, or it was cancelled.
    public func group(_ id: GroupID) throws(QueueError) -> Group {
        try core.store.read { db throws(QueueError) in _ = try db.liveGroup(id) }
        return Group(id: id, core: core)
    }

    /// Every live group, in creation order, as a snapshot taken now (QMGR: EnumGroups).
    ///
    /// The array is the enumerator: `count` is GetCount, `prefix(n)` is Next(n), `dropFirst(n)` is
    /// Skip(n), and iterating again is Reset. Cancelled groups never appear.
    public func groups() throws(QueueError) -> [Group] {
        try core.store.read { db throws(QueueError) in try db.liveGroupIDs() }.map { Group(id: $0, core: core) }
    }

    /// Removes the job, file and event rows of groups and jobs cancelled before `date`. One small
    /// row per group stays, so a cancelled group's ID is never reused; IDs of purged jobs become free.
    ///
    /// - Returns: How many tombstones (groups and jobs) were purged.
    @discardableResult
    public func purgeTombstones(olderThan date: Date) throws(QueueError) -> Int {
        let purge = TombstonePurge(cutoff: Int64((date.timeIntervalSince1970 * 1000).rounded()))
        return try core.store.write { db throws(QueueError) in try purge.run(db) }
    }
}

extension Duration {
    /// Whole milliseconds, for the `*_ms` columns.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
