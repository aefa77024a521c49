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
        try core.store.write { db throws(QueueError) in
            let (group, job) = try core.liveJob(db, group: groupID, job: id)
            let taken = try db.statement("SELECT 1 FROM files WHERE local_path = ? AND state NOT IN ('retained', 'discarded')")
            for (index, file) in files.enumerated() {
                try taken.bind(.text(file.local))
                if try taken.step() {
                    throw QueueError(.invalidArgument, "file \(index): local path \(file.local) is already used by a file in the queue", value: file.local)
                }
                taken.reset()
            }
            let next = try db.statement("SELECT coalesce(max(position) + 1, 0) FROM files WHERE job_id = ?").bind(.integer(job))
            _ = try next.step()
            let first = next.int(0)
            let insert = try db.statement("""
                INSERT INTO files (job_id, position, remote_url, local_path, size_hint, sha256) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for (offset, file) in files.enumerated() {
                try insert.bind(.integer(job), .int(first + offset), .text(file.remote), .text(file.local),
                                .optional(file.sizeHint.map(Int64.init)), digests[offset].map(SQLValue.blob) ?? .null)
                try insert.run()
                insert.reset()
            }
            var state = group.state
            if state == .complete {
                state = .suspended
                try db.statement("UPDATE groups SET state = 'suspended', completed_at = NULL, modified_at = ? WHERE id = ?")
                    .bind(.integer(now), .integer(group.rowID)).run()
            }
            try EventLog.record(db, .modified, group: group.rowID, job: job, state: state, detail: "\(files.count) file(s) added", at: now)
        }
    }

    /// The file at a zero-based index (QMGR: GetFile).
    ///
    /// - Throws: `notFound` if `index` is not below ``fileCount()``, or the job was cancelled.
    public func file(at index: Int) throws(QueueError) -> FileInfo {
        try core.store.read { db throws(QueueError) in
            let (_, job) = try core.liveJob(db, group: groupID, job: id)
            let statement = try db.statement("\(Job.fileColumns) WHERE job_id = ? AND position = ?")
                .bind(.integer(job), .int(index))
            guard try statement.step() else {
                throw QueueError(.notFound, "job \(id) has no file at index \(index)", value: "\(index)")
            }
            return Job.fileInfo(statement)
        }
    }

    /// Every file of the job in order.
    public func files() throws(QueueError) -> [FileInfo] {
        try core.store.read { db throws(QueueError) in
            let (_, job) = try core.liveJob(db, group: groupID, job: id)
            let statement = try db.statement("\(Job.fileColumns) WHERE job_id = ? ORDER BY position").bind(.integer(job))
            var files: [FileInfo] = []
            while try statement.step() { files.append(Job.fileInfo(statement)) }
            return files
        }
    }

    /// How many files the job has (QMGR: GetFileCount).
    public func fileCount() throws(QueueError) -> Int {
        try core.store.read { db throws(QueueError) in
            let (_, job) = try core.liveJob(db, group: groupID, job: id)
            let statement = try db.statement("SELECT count(*) FROM files WHERE job_id = ?").bind(.integer(job))
            _ = try statement.step()
            return statement.int(0)
        }
    }

    /// Progress over the job's files (QMGR: IBackgroundCopyJob1::GetProgress).
    public func progress() throws(QueueError) -> TransferProgress {
        try core.store.read { db throws(QueueError) in
            let (_, job) = try core.liveJob(db, group: groupID, job: id)
            return try ProgressQuery.job(db, job)
        }
    }

    /// The job's QMGR status flags, current file and last error (QMGR: IBackgroundCopyJob1::GetStatus).
    public func status() throws(QueueError) -> JobStatus {
        try core.store.read { db throws(QueueError) in
            let (group, job) = try core.liveJob(db, group: groupID, job: id)
            return try StatusQuery.job(db, group: group, job: job)
        }
    }

    /// Cancels this job alone, in one transaction, as ``Group/cancel()`` does for a group: complete
    /// files `retained`, the rest `discarded`, the job a tombstone, a `jobCancelled` event. If that
    /// leaves the group nothing to transfer, the group becomes `complete` (or `suspended` when it has
    /// no file left at all); if the group was in error because of a file of this job, it becomes
    /// `suspended` with its error cleared. (An extension: QMGR's CancelJob was not implemented.)
    ///
    /// - Throws: `notFound` if the job or its group was cancelled.
    public func cancel() throws(QueueError) {
        let now = core.now()
        let outcome = try core.store.write { db throws(QueueError) in
            let (group, job) = try core.liveJob(db, group: groupID, job: id)
            let outcome = try Cancellation(scope: .job(job), now: now).run(db)
            let state = try GroupSettlement.afterJobCancel(db, group, at: now)
            try EventLog.record(db, .jobCancelled, group: group.rowID, job: job, state: state, detail: outcome.summary, at: now)
            return outcome
        }
        Reconciler(core: core).apply(outcome.effects)
    }

    static let fileColumns = """
        SELECT position, remote_url, local_path, size_hint, sha256, state, bytes_total, bytes_done FROM files
        """

    static func fileInfo(_ row: Statement) -> FileInfo {
        FileInfo(
            index: row.int(0), remote: row.text(1), local: row.text(2),
            sizeHint: row.optionalInt64(3).map(UInt64.init), sha256: row.optionalBlob(4)?.hexString,
            state: FileState(rawValue: row.text(5)) ?? .error,
            bytesTotal: row.optionalInt64(6).map(UInt64.init), bytesDone: UInt64(row.int64(7)))
    }
}
