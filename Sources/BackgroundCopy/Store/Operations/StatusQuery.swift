/// Derives QMGR status flags, the current job or file and the last error from the rows.
enum StatusQuery {
    /// File states that still need work.
    static let pendingStates = "('queued', 'transferring', 'finalizing', 'error')"

    static func group(_ db: Connection, _ row: GroupRow) throws(QueueError) -> GroupStatus {
        let flags = flags(row.state, row.priority)

        var currentJobIndex: Int?
        let first = try db.statement(
            """
            SELECT j.id FROM jobs j WHERE j.group_id = ? AND j.state = 'active'
              AND EXISTS (SELECT 1 FROM files f WHERE f.job_id = j.id AND f.state IN \(pendingStates))
            ORDER BY j.id LIMIT 1
            """
        ).bind(.integer(row.rowID))
        if try first.step() {
            let jobRowID = first.int64(0)
            let before = try db.statement("SELECT count(*) FROM jobs WHERE group_id = ? AND state = 'active' AND id < ?")
                .bind(.integer(row.rowID), .integer(jobRowID))
            _ = try before.step()
            currentJobIndex = before.int(0)
        }
        let failure = try lastError(db, row.rowID)
        return GroupStatus(
            state: row.state, flags: flags, currentJobIndex: currentJobIndex,
            lastError: failure?.failure, errorCount: failure?.errorCount ?? 0)
    }

    /// The QM_STATUS_GROUP_* flags of a group in `state` with `priority`.
    static func flags(_ state: GroupState, _ priority: Priority) -> StatusFlags {
        var flags: StatusFlags =
            switch state {
            case .suspended: [.groupSuspended, .groupIncomplete]
            case .queued, .transferring: [.groupIncomplete]
            case .complete: [.groupComplete, .groupSuspended]
            case .error, .cancelled: [.groupError, .groupSuspended, .groupIncomplete]
            }
        if priority == .foreground { flags.insert(.groupForeground) }
        return flags
    }

    static func job(_ db: Connection, group: GroupRow, job jobRowID: Int64) throws(QueueError) -> JobStatus {
        let counts = try db.statement(
            """
            SELECT count(*), coalesce(sum(state = 'error'), 0),
                   (SELECT min(position) FROM files WHERE job_id = ?1 AND state IN \(pendingStates))
            FROM files WHERE job_id = ?1
            """
        ).bind(.integer(jobRowID))
        _ = try counts.step()
        let total = counts.int(0)
        let errors = counts.int(1)
        let current = counts.optionalInt64(2).map(Int.init)
        let flags = jobFlags(files: total, errors: errors, current: current, priority: group.priority)
        let failure = try lastError(db, group.rowID)
        let mine = failure.flatMap { $0.jobRowID == jobRowID ? $0.failure : nil }
        return JobStatus(flags: flags, currentFileIndex: current, lastError: mine)
    }

    /// A job's flags from its file count, its failed files, its first file still to transfer
    /// (`nil` if none) and its group's priority: the one rule both backends apply.
    static func jobFlags(files total: Int, errors: Int, current: Int?, priority: Priority) -> StatusFlags {
        var flags: StatusFlags = []
        if total > 0 && current == nil {
            flags.formUnion([.jobComplete, .fileComplete])
        } else {
            flags.insert(.jobIncomplete)
            if current != nil { flags.insert(.fileIncomplete) }
        }
        if errors > 0 { flags.insert(.jobError) }
        if priority == .foreground { flags.insert(.jobForeground) }
        return flags
    }

    private static func lastError(_ db: Connection, _ groupRowID: Int64) throws(QueueError)
        -> (failure: TransferFailure?, jobRowID: Int64?, errorCount: Int)?
    {
        let statement = try db.statement(
            """
            SELECT g.error_count, g.last_error_code, g.last_error_message, g.last_error_system, g.last_error_http,
                   g.last_error_retries, f.position, f.job_id
            FROM groups g LEFT JOIN files f ON f.id = g.last_error_file_id WHERE g.id = ?
            """
        ).bind(.integer(groupRowID))
        guard try statement.step() else { return nil }
        let errorCount = statement.int(0)
        guard let code = statement.optionalText(1) else { return (nil, nil, errorCount) }
        let error = QueueError(
            QueueError.Code(code), statement.text(2),
            httpStatus: statement.optionalInt64(4).map(Int.init),
            systemError: statement.optionalInt64(3).map { Int32(truncatingIfNeeded: $0) })
        let failure = TransferFailure(
            error: error, fileIndex: statement.optionalInt64(6).map(Int.init),
            retries: Int(statement.optionalInt64(5) ?? 0))
        return (failure, statement.optionalInt64(7), errorCount)
    }
}
