import Foundation
import Logging
import PostgresNIO

/// One queue in a PostgreSQL database that engines on many hosts drain together (DESIGN.md,
/// Scale-out): groups, jobs and files as in a ``QueueManager``, each call one transaction with the
/// same errors, and ``run()``, the engine of this host.
///
/// Every file is transferred by one host at a time, under a lease that the host renews while it
/// works; a host that dies or stalls loses its leases after ``leaseDuration`` and another host
/// takes its files over — from the committed bytes when the temp file is on storage both see,
/// else from zero. Every commit about a file presents the lease's fencing token, so a stalled host
/// that wakes up after a takeover changes nothing. Local paths must therefore be on storage every
/// engine host sees (a shared volume), under the same path.
///
/// The public surface so far: groups (create, look up, enumerate, properties, foreground, resume,
/// suspend, cancel, progress, status), jobs (create, look up, enumerate, files, progress, status,
/// cancel), purging tombstones and the engine. Observers and notify commands stay SQLite-only for now.
///
/// ```swift
/// let client = PostgresClient(configuration: …)          // postgres-nio; run it: `await client.run()`
/// let queue = try await PostgresQueueManager(client: client, host: "mirror-3")
/// let group = try await queue.createGroup(properties: GroupProperties(displayName: "nightly"))
/// try await group.createJob().addFiles([FileSpec(remote: "https://example.com/a.bin", local: "/shared/a.bin")])
/// try await group.resume()
/// try await queue.run()                                    // until the task is cancelled
/// ```
public final class PostgresQueueManager: Sendable {
    /// This host's name, recorded with every lease it holds.
    public let host: String
    /// How long a lease lasts unless renewed; another host may take the file over after that.
    public let leaseDuration: Duration
    /// The settings of this host's calls and engine.
    public let configuration: QueueManager.Configuration
    let store: PostgresStore
    let operations: PostgresQueueOperations
    let validator: Validator
    let fileSystem: any FileSystem

    /// Opens the queue in the database `client` connects to, migrating it to the current schema.
    /// The host runs `client` (`await client.run()` in a task of its own) for as long as it uses the queue.
    ///
    /// - Throws: `invalidArgument` for an empty or over-long `host` or a lease shorter than a
    ///   second; `incompatibleDatabase` if the database is not a BackgroundCopy queue or is newer;
    ///   `storage` if PostgreSQL fails.
    public init(
        client: PostgresClient, host: String, leaseDuration: Duration = .seconds(15),
        configuration: QueueManager.Configuration = .init(), logger: Logger = Logger.current
    ) async throws(QueueError) {
        guard !host.isEmpty, host.utf8.count <= 256, Validator.firstControl(in: host, allowing: []) == nil else {
            throw .invalidArgument("host name must be 1 to 256 characters without control characters, not \"\(host)\"", value: host)
        }
        guard leaseDuration >= .seconds(1) else {
            throw .invalidArgument("a lease must last at least 1 second, not \(leaseDuration)", value: "\(leaseDuration)")
        }
        let fileSystem = PosixFileSystem()
        self.host = host
        self.leaseDuration = leaseDuration
        self.configuration = configuration
        self.store = PostgresStore(client: client, logger: QueueManager.chosen(logger))
        self.operations = PostgresQueueOperations(store: store)
        self.validator = Validator(configuration: configuration, fileSystem: fileSystem)
        self.fileSystem = fileSystem
        try await store.migrate()
    }

    /// Creates a new group, suspended (QMGR: CreateGroup).
    /// - Throws: `alreadyExists` if `id` is or was taken; `invalidArgument` for bad properties
    ///   (notify commands are not supported on PostgreSQL yet).
    public func createGroup(id: GroupID? = nil, properties: GroupProperties) async throws(QueueError) -> PostgresGroup {
        try validator.validate(properties)
        if let command = properties.notifyCommand {
            throw .invalidArgument("notify commands are not supported on a PostgreSQL queue", value: command.program)
        }
        let id = id ?? GroupID()
        try await operations.createGroup(id, properties, at: now())
        return PostgresGroup(id: id, manager: self)
    }

    /// Opens a live group.
    /// - Throws: `notFound` if no group has `id`, or it was cancelled.
    public func group(_ id: GroupID) async throws(QueueError) -> PostgresGroup {
        try await operations.checkGroup(id)
        return PostgresGroup(id: id, manager: self)
    }

    /// Every live group, in creation order, as a snapshot taken now (QMGR: EnumGroups); cancelled
    /// groups never appear. As on a SQLite queue, the array is the enumerator.
    public func groups() async throws(QueueError) -> [PostgresGroup] {
        try await operations.liveGroupIDs().map { PostgresGroup(id: $0, manager: self) }
    }

    /// Removes the job, file and event rows of groups and jobs cancelled before `date`. One small
    /// row per group stays, so a cancelled group's ID is never reused; IDs of purged jobs become free.
    ///
    /// - Returns: How many tombstones (groups and jobs) were purged.
    @discardableResult
    public func purgeTombstones(olderThan date: Date) async throws(QueueError) -> Int {
        try await operations.purgeTombstones(before: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    /// Runs this host's transfer engine until the calling task is cancelled: claims files of
    /// resumed groups in the queue's order under leases, transfers them, and takes over the files
    /// of hosts whose leases lapsed. Any number of hosts may run it on the same queue.
    public func run() async throws(QueueError) {
        try await FleetEngine(ledger: engineLedger, settings: configuration, fileSystem: fileSystem, logger: store.logger).run()
    }

    /// This host's ledger (what ``run()`` drives); the benchmarks claim and complete through it.
    package var engineLedger: PostgresEngineLedger {
        PostgresEngineLedger(leases: PostgresLeaseLedger(store: store, now: now), host: host, leaseDuration: leaseDuration)
    }

    @Sendable func now() -> Int64 {
        Int64((configuration.wallClock().timeIntervalSince1970 * 1000).rounded())
    }
}
