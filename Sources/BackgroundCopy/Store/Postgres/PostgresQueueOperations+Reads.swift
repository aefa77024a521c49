import Foundation
import PostgresNIO

/// The host's reads of a PostgreSQL queue (enumeration, properties, files, progress, status): the
/// counterparts of the SQLite `Connection` reads, each one transaction, the same `notFound` errors
/// naming the same values.
extension PostgresQueueOperations {
    /// The IDs of every live group, in creation order.
    func liveGroupIDs() async throws(QueueError) -> [GroupID] {
        try await store.transaction { db throws(QueueError) in
            let rows = try await db.run("SELECT uuid FROM groups WHERE state <> 'cancelled' ORDER BY id", logger: logger)
            var ids: [GroupID] = []
            for row in rows { ids.append(GroupID(try row.value(UUID.self))) }
            return ids
        }
    }

    /// A live group's properties (a PostgreSQL queue has no notify command).
    func properties(_ id: GroupID) async throws(QueueError) -> GroupProperties {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, id)
            let rows = try await db.run(
                """
                SELECT display_name, description, priority::bigint, notify_flags::bigint, retry_delay_ms,
                       no_progress_timeout_ms, http_headers
                FROM groups WHERE id = \(group.rowID)
                """, logger: logger)
            guard let row = rows.first else { throw .notFound("group", id.description) }
            let (name, description, priority, flags, retryDelay, timeout, headers) =
                try row.values((String, String, Int64, Int64, Int64, Int64, String).self)
            return GroupProperties(
                displayName: name, description: description, priority: Priority(rawValue: Int(priority)) ?? .normal,
                notifyFlags: NotifyFlags(rawValue: UInt32(truncatingIfNeeded: flags)), retryDelay: .milliseconds(retryDelay),
                noProgressTimeout: .milliseconds(timeout), httpHeaders: HeaderCoding.decode(headers))
        }
    }

    /// The row IDs of a live job and its live group, or `notFound` naming the job.
    func liveJob(_ db: PostgresConnection, group groupID: GroupID, job jobID: JobID) async throws(QueueError)
        -> (group: (rowID: Int64, state: GroupState, priority: Priority), job: Int64)
    {
        let group = try await liveGroup(db, groupID)
        let rows = try await db.run(
            "SELECT id FROM jobs WHERE uuid = \(jobID.uuid) AND group_id = \(group.rowID) AND state = 'active'", logger: logger)
        guard let job = try rows.first?.value(Int64.self) else { throw .notFound("job", jobID.description) }
        return (group, job)
    }

    func checkJob(_ jobID: JobID, in groupID: GroupID) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in _ = try await liveJob(db, group: groupID, job: jobID) }
    }

    /// The IDs of a live group's live jobs, in creation order.
    func liveJobIDs(in groupID: GroupID) async throws(QueueError) -> [JobID] {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, groupID)
            let rows = try await db.run(
                "SELECT uuid FROM jobs WHERE group_id = \(group.rowID) AND state = 'active' ORDER BY id", logger: logger)
            var ids: [JobID] = []
            for row in rows { ids.append(JobID(try row.value(UUID.self))) }
            return ids
        }
    }

    /// Every file of a live job, in order.
    func files(of jobID: JobID, in groupID: GroupID) async throws(QueueError) -> [FileInfo] {
        try await store.transaction { db throws(QueueError) in
            let job = try await liveJob(db, group: groupID, job: jobID).job
            return try await fileInfos(db, job: job)
        }
    }

    /// The file at a zero-based position of a live job.
    /// - Throws: `notFound` naming the index if there is none.
    func file(at index: Int, of jobID: JobID, in groupID: GroupID) async throws(QueueError) -> FileInfo {
        try await store.transaction { db throws(QueueError) in
            let job = try await liveJob(db, group: groupID, job: jobID).job
            guard let file = try await fileInfos(db, job: job, at: Int64(clamping: index)).first else {
                throw QueueError(.notFound, "job \(jobID) has no file at index \(index)", value: "\(index)")
            }
            return file
        }
    }

    /// A job's files in order: all of them, or the one at `position`.
    private func fileInfos(_ db: PostgresConnection, job: Int64, at position: Int64? = nil) async throws(QueueError) -> [FileInfo] {
        let rows = try await db.run(
            """
            SELECT position::bigint, remote_url, local_path, size_hint, encode(sha256, 'hex'), state, bytes_total, bytes_done
            FROM files WHERE job_id = \(job) AND (\(position)::bigint IS NULL OR position = \(position)::bigint)
            ORDER BY position
            """, logger: logger)
        var files: [FileInfo] = []
        for row in rows {
            let (position, remote, local, hint, sha256, state, total, done) =
                try row.values((Int64, String, String, Int64?, String?, String, Int64?, Int64).self)
            files.append(
                FileInfo(
                    index: Int(position), remote: remote, local: local, sizeHint: hint.map(UInt64.init), sha256: sha256,
                    state: FileState(rawValue: state) ?? .error, bytesTotal: total.map(UInt64.init), bytesDone: UInt64(done)))
        }
        return files
    }

    /// How many files a live job has.
    func fileCount(of jobID: JobID, in groupID: GroupID) async throws(QueueError) -> Int {
        try await store.transaction { db throws(QueueError) in
            let job = try await liveJob(db, group: groupID, job: jobID).job
            let rows = try await db.run("SELECT count(*) FROM files WHERE job_id = \(job)", logger: logger)
            return Int(try rows.first?.value(Int64.self) ?? 0)
        }
    }

    /// Progress over the files of a live group's live jobs, or of one live job when `jobID` is given.
    func progress(_ groupID: GroupID, job jobID: JobID? = nil) async throws(QueueError) -> TransferProgress {
        try await store.transaction { db throws(QueueError) in
            var jobs: [Int64]
            if let jobID {
                jobs = [try await liveJob(db, group: groupID, job: jobID).job]
            } else {
                let group = try await liveGroup(db, groupID)
                jobs = []
                for row in try await db.run("SELECT id FROM jobs WHERE group_id = \(group.rowID) AND state = 'active'", logger: logger) {
                    jobs.append(try row.value(Int64.self))
                }
            }
            let rows = try await db.run(
                """
                SELECT count(*), count(*) FILTER (WHERE state = 'complete'), coalesce(sum(bytes_done), 0)::bigint,
                       coalesce(sum(coalesce(bytes_total, size_hint)), 0)::bigint,
                       count(*) FILTER (WHERE bytes_total IS NULL AND size_hint IS NULL)
                FROM files WHERE job_id = ANY(\(jobs)::bigint[])
                """, logger: logger)
            let (total, done, bytesDone, bytesTotal, unknown) =
                try rows.first?.values((Int64, Int64, Int64, Int64, Int64).self) ?? (Int64(0), Int64(0), Int64(0), Int64(0), Int64(0))
            return TransferProgress(
                bytesDone: UInt64(bytesDone), bytesTotal: UInt64(bytesTotal), filesDone: Int(done), filesTotal: Int(total),
                filesOfUnknownSize: Int(unknown))
        }
    }

    /// A live job's flags, current file and last error (the group's, if one of this job's files failed).
    func jobStatus(_ jobID: JobID, in groupID: GroupID) async throws(QueueError) -> JobStatus {
        try await store.transaction { db throws(QueueError) in
            let (group, job) = try await liveJob(db, group: groupID, job: jobID)
            let rows = try await db.run(
                """
                SELECT count(*), count(*) FILTER (WHERE state = 'error'),
                       (min(position) FILTER (WHERE state IN \(unescaped: StatusQuery.pendingStates)))::bigint
                FROM files WHERE job_id = \(job)
                """, logger: logger)
            let (total, errors, current) = try rows.first?.values((Int64, Int64, Int64?).self) ?? (Int64(0), Int64(0), Int64?.none)
            let flags = StatusQuery.jobFlags(
                files: Int(total), errors: Int(errors), current: current.map(Int.init), priority: group.priority)
            let failure = try await lastError(db, group: group.rowID)
            return JobStatus(
                flags: flags, currentFileIndex: current.map(Int.init), lastError: failure.job == job ? failure.failure : nil)
        }
    }

    /// A group's last failure, the job of the file that failed, and how often the group went into error.
    func lastError(_ db: PostgresConnection, group: Int64) async throws(QueueError)
        -> (failure: TransferFailure?, job: Int64?, count: Int)
    {
        let rows = try await db.run(
            """
            SELECT g.error_count::bigint, g.last_error_code, g.last_error_message, g.last_error_system::bigint,
                   g.last_error_http::bigint, g.last_error_retries::bigint, f.position::bigint, f.job_id
            FROM groups g LEFT JOIN files f ON f.id = g.last_error_file_id WHERE g.id = \(group)
            """, logger: logger)
        guard let row = rows.first else { return (nil, nil, 0) }
        let (count, code, message, system, http, retries, position, job) =
            try row.values((Int64, String?, String?, Int64?, Int64?, Int64?, Int64?, Int64?).self)
        guard let code else { return (nil, nil, Int(count)) }
        let error = QueueError(
            QueueError.Code(code), message ?? "", httpStatus: http.map(Int.init),
            systemError: system.map { Int32(truncatingIfNeeded: $0) })
        return (TransferFailure(error: error, fileIndex: position.map(Int.init), retries: Int(retries ?? 0)), job, Int(count))
    }
}
