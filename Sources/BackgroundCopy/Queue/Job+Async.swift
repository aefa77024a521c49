/// The `async` forms of ``Job``'s calls.
extension Job {
    /// Appends files to the job, all or none (QMGR: AddFiles).
    /// - Throws: `invalidArgument` naming the bad value; `accessDenied`; `notFound`.
    public func addFiles(_ files: [FileSpec]) async throws(QueueError) {
        let digests = try core.validator.validate(files)
        let now = core.now()
        try await core.store.write { [id, groupID] db throws(QueueError) in
            try db.addFiles(files, digests: digests, to: id, in: groupID, at: now)
        }
    }

    /// The file at a zero-based index (QMGR: GetFile).
    /// - Throws: `notFound` if `index` is not below the file count, or the job was cancelled.
    public func file(at index: Int) async throws(QueueError) -> FileInfo {
        try await core.store.read { [id, groupID] db throws(QueueError) in try db.file(at: index, of: id, in: groupID) }
    }

    /// Every file of the job in order.
    public func files() async throws(QueueError) -> [FileInfo] {
        try await core.store.read { [id, groupID] db throws(QueueError) in try db.files(of: id, in: groupID) }
    }

    /// How many files the job has (QMGR: GetFileCount).
    public func fileCount() async throws(QueueError) -> Int {
        try await core.store.read { [id, groupID] db throws(QueueError) in try db.fileCount(of: id, in: groupID) }
    }

    /// Progress over the job's files.
    public func progress() async throws(QueueError) -> TransferProgress {
        try await core.store.read { [id, groupID] db throws(QueueError) in try db.jobProgress(id, in: groupID) }
    }

    /// The job's QMGR status flags, current file and last error.
    public func status() async throws(QueueError) -> JobStatus {
        try await core.store.read { [id, groupID] db throws(QueueError) in try db.jobStatus(id, in: groupID) }
    }

    /// Cancels this job alone, in one transaction, as ``Group/cancel()-7wzi8`` does for a group.
    /// - Throws: `notFound` if the job or its group was cancelled.
    public func cancel() async throws(QueueError) {
        let now = core.now()
        let outcome = try await core.store.write { [id, groupID] db throws(QueueError) in try db.cancelJob(id, in: groupID, at: now) }
        Reconciler(core: core).apply(outcome.effects)
    }
}
