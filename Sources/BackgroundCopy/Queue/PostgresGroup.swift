import Foundation

/// A group of a ``PostgresQueueManager`` (the counterpart of ``Group``): a value handle holding
/// only the ID, so every call reads the queue afresh in its own transaction; once the group is
/// cancelled, every call throws `notFound`.
public struct PostgresGroup: Sendable, Hashable, Identifiable {
    /// The group's ID (QMGR: get_GroupID).
    public let id: GroupID
    let manager: PostgresQueueManager

    /// Two handles are equal when they name the same group of the same queue manager.
    public static func == (lhs: PostgresGroup, rhs: PostgresGroup) -> Bool { lhs.id == rhs.id && lhs.manager === rhs.manager }

    /// Hashes the group's ID.
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// The group's properties (QMGR: GetProp). A PostgreSQL queue has no notify command.
    /// - Throws: `notFound` if the group was cancelled.
    public func properties() async throws(QueueError) -> GroupProperties {
        try await manager.operations.properties(id)
    }

    /// Replaces the group's properties after validating all of them (QMGR: SetProp).
    /// - Throws: `invalidArgument` naming the first bad value, or a notify command (not supported
    ///   on PostgreSQL yet); nothing is written. `notFound` if the group was cancelled.
    public func setProperties(_ properties: GroupProperties) async throws(QueueError) {
        try manager.validator.validate(properties)
        if let command = properties.notifyCommand {
            throw .invalidArgument("notify commands are not supported on a PostgreSQL queue", value: command.program)
        }
        try await manager.operations.setProperties(id, properties, at: manager.now())
    }

    /// Progress over every file of every live job of the group (QMGR: GetProgress).
    /// - Throws: `notFound` if the group was cancelled.
    public func progress() async throws(QueueError) -> TransferProgress {
        try await manager.operations.progress(id)
    }

    /// The group's state, QMGR status flags, current job and last error (QMGR: GetStatus).
    /// - Throws: `notFound` if the group was cancelled.
    public func status() async throws(QueueError) -> GroupStatus {
        try await manager.operations.status(id)
    }

    /// Adds a new, empty job at the end of the group (QMGR: CreateJob, which allowed only one).
    /// - Throws: `alreadyExists` if any job, live or cancelled, has that ID; `notFound` if the group was cancelled.
    @discardableResult
    public func createJob(id jobID: JobID? = nil) async throws(QueueError) -> PostgresJob {
        let jobID = jobID ?? JobID()
        try await manager.operations.createJob(jobID, in: id, at: manager.now())
        return PostgresJob(id: jobID, groupID: id, manager: manager)
    }

    /// Opens a live job of this group (QMGR: GetJob).
    /// - Throws: `notFound` if the group has no live job with `id`, or the group was cancelled.
    public func job(_ jobID: JobID) async throws(QueueError) -> PostgresJob {
        try await manager.operations.checkJob(jobID, in: id)
        return PostgresJob(id: jobID, groupID: id, manager: manager)
    }

    /// The group's live jobs in creation order, as a snapshot taken now (QMGR: EnumJobs).
    /// - Throws: `notFound` if the group was cancelled.
    public func jobs() async throws(QueueError) -> [PostgresJob] {
        try await manager.operations.liveJobIDs(in: id).map { PostgresJob(id: $0, groupID: id, manager: manager) }
    }

    /// Queues the group for transfer by any host's engine; a group in error has its error cleared
    /// and its failed files retried (QMGR: ResumeGroup). A no-op on a queued or transferring group.
    /// - Throws: `empty` if no file is left to transfer (the group stays as it is); `notFound`.
    public func resume() async throws(QueueError) {
        try await manager.operations.resume(id, at: manager.now())
    }

    /// Stops the group's transfers on every host (within a poll interval); committed bytes are kept
    /// (QMGR: SuspendGroup). A no-op on a group that is already suspended, complete or in error.
    /// - Throws: `notFound` if the group was cancelled.
    public func suspend() async throws(QueueError) {
        try await manager.operations.suspend(id, at: manager.now())
    }

    /// Makes the group a foreground group from now on; there is no way back except
    /// ``setProperties(_:)`` (QMGR: SwitchToForeground).
    /// - Throws: `notFound` if the group was cancelled.
    public func switchToForeground() async throws(QueueError) {
        try await manager.operations.switchToForeground(id, at: manager.now())
    }

    /// Removes the group from the queue in one transaction (QMGR: CancelGroup): complete files are
    /// retained at their local paths, the rest discarded, the group and its jobs become a tombstone
    /// whose ID is never reused, a `cancelled` event is recorded; every host's transfers of it stop
    /// within a poll interval. Temp files are removed after the commit.
    /// - Throws: `notFound` if the group is unknown or already cancelled.
    public func cancel() async throws(QueueError) {
        let outcome = try await manager.operations.cancel(id, at: manager.now())
        TempFiles(fileSystem: manager.fileSystem, logger: manager.store.logger).apply(outcome.effects)
    }
}
