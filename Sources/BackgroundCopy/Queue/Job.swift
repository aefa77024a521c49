/// A handle to a job: an ordered list of files inside a group (QMGR: IBackgroundCopyJob1).
///
/// A value holding the job's and its group's IDs; every call reads the queue afresh in its own
/// transaction. Once the job or its group is cancelled, every call throws `notFound`.
public struct Job: Sendable, Hashable, Identifiable {
    /// The job's ID (QMGR: get_JobID).
    public let id: JobID
    /// The ID of the group the job belongs to.
    public let groupID: GroupID
    let core: QueueCore

    init(id: JobID, group: GroupID, core: QueueCore) {
        self.id = id
        self.groupID = group
        self.core = core
    }

    /// Two handles are equal when they name the same job of the same queue manager.
    public static func == (lhs: Job, rhs: Job) -> Bool { lhs.id == rhs.id && lhs.core === rhs.core }

    /// Hashes the job's ID.
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Appends files to the job, all or none (QMGR: AddFiles).
    ///
    /// Every spec is validated before the transaction. Adding to a complete group makes it
    /// suspended again (it has work to do); a queued or transferring group picks the files up.
    /// - Throws: `invalidArgument` naming the bad value and the file's index in `files` (scheme not
    ///   allowed, relative or over-long path, symlink, duplicate local path in the batch or the live
    ///   queue); `accessDenied` (directory missing or not writable, outside the allowed roots); `notFound`.
    public func addFiles(_ files: [FileSpec]) throws(QueueError) {
        let digests = try core.validator.validate(files)
        let now = core.now()
        try core.store.write { [id, groupID] db throws(QueueError) in
            try db.addFiles(files, digests: digests, to: id, in: groupID, at: now)
        }
    }

    /// The file at a zero-based index (QMGR: GetFile).
    ///
    /// - Throws: `notFound` if `index` is not below ``fileCount()-4hr7y``, or the job was cancelled.
    public func file(at index: Int) throws(QueueError) -> FileInfo {
        try core.store.read { [id, groupID] db throws(QueueError) in try db.file(at: index, of: id, in: groupID) }
    }

    /// Every file of the job in order.
    public func files() throws(QueueError) -> [FileInfo] {
        try core.store.read { [id, groupID] db throws(QueueError) in try db.files(of: id, in: groupID) }
    }

    /// How many files the job has (QMGR: GetFileCount).
    public func fileCount() throws(QueueError) -> Int {
        try core.store.read { [id, groupID] db throws(QueueError) in try db.fileCount(of: id, in: groupID) }
    }

    /// Progress over the job's files (QMGR: IBackgroundCopyJob1::GetProgress).
    public func progress() throws(QueueError) -> TransferProgress {
        try core.store.read { [id, groupID] db throws(QueueError) in try db.jobProgress(id, in: groupID) }
    }

    /// The job's QMGR status flags, current file and last error (QMGR: IBackgroundCopyJob1::GetStatus).
    public func status() throws(QueueError) -> JobStatus {
        try core.store.read { [id, groupID] db throws(QueueError) in try db.jobStatus(id, in: groupID) }
    }

    /// Cancels this job alone, in one transaction, as ``Group/cancel()-6rdfd`` does for a group: complete
    /// files `retained`, the rest `discarded`, the job a tombstone, a `jobCancelled` event. If that
    /// leaves the group nothing to transfer, the group becomes `complete` (or `suspended` when it has
    /// no file left at all); if the group was in error because of a file of this job, it becomes
    /// `suspended` with its error cleared. (An extension: QMGR's CancelJob was not implemented.)
    ///
    /// - Throws: `notFound` if the job or its group was cancelled.
    public func cancel() throws(QueueError) {
        let now = core.now()
        let outcome = try core.store.write { [id, groupID] db throws(QueueError) in try db.cancelJob(id, in: groupID, at: now) }
        Reconciler(core: core).apply(outcome.effects)
    }
}
