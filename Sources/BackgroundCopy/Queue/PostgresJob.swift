import Foundation

/// A job of a ``PostgresGroup`` (the counterpart of ``Job``): a value handle holding the job's and
/// its group's IDs; once the job or its group is cancelled, every call throws `notFound`.
public struct PostgresJob: Sendable, Hashable, Identifiable {
    /// The job's ID (QMGR: get_JobID).
    public let id: JobID
    /// The ID of the group the job belongs to.
    public let groupID: GroupID
    let manager: PostgresQueueManager

    /// Two handles are equal when they name the same job of the same queue manager.
    public static func == (lhs: PostgresJob, rhs: PostgresJob) -> Bool { lhs.id == rhs.id && lhs.manager === rhs.manager }

    /// Hashes the job's ID.
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Appends files to the job, all or none (QMGR: AddFiles), validated as ``Job/addFiles(_:)-4zhhy`` does.
    /// - Throws: `invalidArgument` naming the file and value at fault (a local path another live
    ///   file has included); `accessDenied`; `notFound` if the job or group was cancelled.
    public func addFiles(_ files: [FileSpec]) async throws(QueueError) {
        let digests = try manager.validator.validate(files)
        try await manager.operations.addFiles(files, digests: digests, to: id, in: groupID, at: manager.now())
    }

    /// The file at a zero-based index (QMGR: GetFile).
    /// - Throws: `notFound` if `index` is not below ``fileCount()``, or the job was cancelled.
    public func file(at index: Int) async throws(QueueError) -> FileInfo {
        try await manager.operations.file(at: index, of: id, in: groupID)
    }

    /// Every file of the job in order.
    /// - Throws: `notFound` if the job or its group was cancelled.
    public func files() async throws(QueueError) -> [FileInfo] {
        try await manager.operations.files(of: id, in: groupID)
    }

    /// How many files the job has (QMGR: GetFileCount).
    /// - Throws: `notFound` if the job or its group was cancelled.
    public func fileCount() async throws(QueueError) -> Int {
        try await manager.operations.fileCount(of: id, in: groupID)
    }

    /// Progress over the job's files (QMGR: IBackgroundCopyJob1::GetProgress).
    /// - Throws: `notFound` if the job or its group was cancelled.
    public func progress() async throws(QueueError) -> TransferProgress {
        try await manager.operations.progress(groupID, job: id)
    }

    /// The job's QMGR status flags, current file and last error (QMGR: IBackgroundCopyJob1::GetStatus).
    /// - Throws: `notFound` if the job or its group was cancelled.
    public func status() async throws(QueueError) -> JobStatus {
        try await manager.operations.jobStatus(id, in: groupID)
    }

    /// Cancels this job alone, in one transaction, as ``PostgresGroup/cancel()`` does for a group:
    /// complete files `retained`, the rest `discarded`, the job a tombstone, a `jobCancelled` event.
    /// If that leaves the group nothing to transfer, the group becomes `complete` (or `suspended`
    /// when it has no file left at all); if the group was in error because of a file of this job,
    /// it becomes `suspended` with its error cleared. (An extension: QMGR's CancelJob was not implemented.)
    /// - Throws: `notFound` if the job or its group was cancelled.
    public func cancel() async throws(QueueError) {
        let outcome = try await manager.operations.cancelJob(id, in: groupID, at: manager.now())
        TempFiles(fileSystem: manager.fileSystem, logger: manager.store.logger).apply(outcome.effects)
    }
}
