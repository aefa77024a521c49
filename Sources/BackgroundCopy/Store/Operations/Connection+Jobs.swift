import Foundation

/// Job and file operations: creation, files added all or none, lookups, the job cancel.
extension Connection {
    /// The rows of a live job of a live group, or `notFound`.
    func liveJob(group: GroupID, job: JobID) throws(QueueError) -> (group: GroupRow, job: Int64) {
        let groupRow = try liveGroup(group)
        let statement = try statement("SELECT id FROM jobs WHERE uuid = ? AND group_id = ? AND state = 'active'")
            .bind(.blob(job.uuid.bytes), .integer(groupRow.rowID))
        guard try statement.step() else { throw .notFound("job", job.description) }
        return (groupRow, statement.int64(0))
    }

    /// Appends a new empty job to a live group.
    /// - Throws: `alreadyExists` if any job, live or cancelled, has `jobID`.
    func createJob(_ jobID: JobID, in group: GroupID, at now: Int64) throws(QueueError) {
        let row = try liveGroup(group)
        let existing = try statement("SELECT 1 FROM jobs WHERE uuid = ?").bind(.blob(jobID.uuid.bytes))
        guard try !existing.step() else { throw .alreadyExists("job", jobID.description) }
        try statement("INSERT INTO jobs (uuid, group_id, created_at) VALUES (?, ?, ?)")
            .bind(.blob(jobID.uuid.bytes), .integer(row.rowID), .integer(now)).run()
        try EventLog.record(self, .modified, group: row.rowID, job: lastInsertRowID, state: row.state, detail: "job created", at: now)
    }

    /// The IDs of a live group's live jobs, in creation order.
    func liveJobIDs(in group: GroupID) throws(QueueError) -> [JobID] {
        let row = try liveGroup(group)
        let statement = try statement("SELECT uuid FROM jobs WHERE group_id = ? AND state = 'active' ORDER BY id")
            .bind(.integer(row.rowID))
        var ids: [JobID] = []
        while try statement.step() {
            if let uuid = statement.uuid(0) { ids.append(JobID(uuid)) }
        }
        return ids
    }

    /// Appends validated files (with their decoded digests) to a live job; a complete group
    /// becomes suspended again, since it has work to do.
    /// - Throws: `invalidArgument` if a local path is already used by a live file of the queue
    ///   (the unique index `files_live_local_path` says so, the call's earlier inserts roll back).
    func addFiles(_ files: [FileSpec], digests: [[UInt8]?], to jobID: JobID, in groupID: GroupID, at now: Int64) throws(QueueError) {
        let (group, job) = try liveJob(group: groupID, job: jobID)
        let next = try statement("SELECT coalesce(max(position) + 1, 0) FROM files WHERE job_id = ?").bind(.integer(job))
        _ = try next.step()
        let first = next.int(0)
        var offset = 0
        while offset < files.count {
            let rows = Self.insertChunks.first { $0 <= files.count - offset } ?? 1
            do throws(QueueError) {
                try insertFiles(files, digests: digests, from: offset, count: rows, job: job, firstPosition: first)
            } catch let error where error.sqliteResultCode == Connection.uniqueConstraint && rows > 1 {
                // The statement's rows are backed out; insert them one by one to name the file.
                for single in offset..<offset + rows {
                    try insertFiles(files, digests: digests, from: single, count: 1, job: job, firstPosition: first)
                }
            }
            offset += rows
        }
        var state = group.state
        if state == .complete {
            state = .suspended
            try statement("UPDATE groups SET state = ?, completed_at = NULL, modified_at = ? WHERE id = ?")
                .bind(.state(GroupState.suspended), .integer(now), .integer(group.rowID)).run()
        }
        try EventLog.record(self, .modified, group: group.rowID, job: job, state: state, detail: "\(files.count) file(s) added", at: now)
    }

    /// Rows per multi-row `INSERT` of files, largest first: one statement run inserts that many,
    /// opening the table's and its indexes' cursors once for all of them.
    private static let insertChunks = [32, 8, 1]
    private static let insertSQL = Dictionary(
        uniqueKeysWithValues: insertChunks.map { rows in
            (
                rows,
                "INSERT INTO files (job_id, position, remote_url, local_path, size_hint, sha256) VALUES "
                    + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
            )
        })

    /// Inserts `count` files from `start` in one statement.
    /// - Throws: `invalidArgument` naming the file if `count` is 1 and its local path is taken.
    private func insertFiles(
        _ files: [FileSpec], digests: [[UInt8]?], from start: Int, count: Int,
        job: Int64, firstPosition: Int
    ) throws(QueueError) {
        let insert = try statement(Self.insertSQL[count]!)
        for row in 0..<count {
            let file = files[start + row]
            let base = Int32(row * 6)
            try insert.bind(.integer(job), at: base + 1)
            try insert.bind(.int(firstPosition + start + row), at: base + 2)
            try insert.bind(.text(file.remote), at: base + 3)
            try insert.bind(.text(file.local), at: base + 4)
            try insert.bind(.optional(file.sizeHint.map(Int64.init)), at: base + 5)
            try insert.bind(digests[start + row].map(SQLValue.blob) ?? .null, at: base + 6)
        }
        do throws(QueueError) {
            try insert.run()
        } catch let error where error.sqliteResultCode == Connection.uniqueConstraint && count == 1 {
            // The unique index files_live_local_path refused it: the files before it were inserted
            // and roll back with the call.
            let file = files[start]
            throw QueueError(
                .invalidArgument, "file \(start): local path \(file.local) is already used by a file in the queue",
                value: file.local)
        }
        insert.reset()
    }

    /// The file at a zero-based position of a live job.
    /// - Throws: `notFound` if there is none.
    func file(at index: Int, of jobID: JobID, in group: GroupID) throws(QueueError) -> FileInfo {
        let (_, job) = try liveJob(group: group, job: jobID)
        let statement = try statement("\(Connection.fileColumns) WHERE job_id = ? AND position = ?").bind(.integer(job), .int(index))
        guard try statement.step() else {
            throw QueueError(.notFound, "job \(jobID) has no file at index \(index)", value: "\(index)")
        }
        return Connection.fileInfo(statement)
    }

    /// Every file of a live job, in order.
    func files(of jobID: JobID, in group: GroupID) throws(QueueError) -> [FileInfo] {
        let (_, job) = try liveJob(group: group, job: jobID)
        let statement = try statement("\(Connection.fileColumns) WHERE job_id = ? ORDER BY position").bind(.integer(job))
        var files: [FileInfo] = []
        while try statement.step() { files.append(Connection.fileInfo(statement)) }
        return files
    }

    /// How many files a live job has.
    func fileCount(of jobID: JobID, in group: GroupID) throws(QueueError) -> Int {
        let (_, job) = try liveJob(group: group, job: jobID)
        let statement = try statement("SELECT count(*) FROM files WHERE job_id = ?").bind(.integer(job))
        _ = try statement.step()
        return statement.int(0)
    }

    /// Progress over a live job's files.
    func jobProgress(_ jobID: JobID, in group: GroupID) throws(QueueError) -> TransferProgress {
        try ProgressQuery.job(self, liveJob(group: group, job: jobID).job)
    }

    /// A live job's flags, current file and last error.
    func jobStatus(_ jobID: JobID, in group: GroupID) throws(QueueError) -> JobStatus {
        let (groupRow, job) = try liveJob(group: group, job: jobID)
        return try StatusQuery.job(self, group: groupRow, job: job)
    }

    /// Cancels one job as a group cancel does, settles its group and records `jobCancelled`.
    /// Returns the temp-file effects to apply after the commit.
    func cancelJob(_ jobID: JobID, in groupID: GroupID, at now: Int64) throws(QueueError) -> Cancellation.Outcome {
        let (group, job) = try liveJob(group: groupID, job: jobID)
        let outcome = try Cancellation(scope: .job(job), now: now).run(self)
        let state = try GroupSettlement.afterJobCancel(self, group, at: now)
        try EventLog.record(self, .jobCancelled, group: group.rowID, job: job, state: state, detail: outcome.summary, at: now)
        return outcome
    }

    /// SQLITE_CONSTRAINT_UNIQUE: an insert that a unique index refused.
    static let uniqueConstraint: Int32 = 2067

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
