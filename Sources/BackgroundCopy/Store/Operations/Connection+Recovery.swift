/// What recovery reads and writes: cancelled files' temp clean-ups, interrupted transfers put back
/// in order, temp files cut back to their committed bytes, and files whose temp file cannot be
/// repaired put in error. The file-system side is the ``Reconciler``'s.
extension Connection {
    /// A file caught while `finalizing`: its temp path, final path and verified size.
    typealias FinalizingFile = (id: Int64, temp: String?, local: String, total: Int64?)

    /// The clean-ups cancelled files still owe: remove the temp of a `discarded` file, finish the
    /// rename of one `retained` while finalizing.
    func cancelledFileEffects() throws(QueueError) -> [FileEffect] {
        let statement = try statement(
            """
            SELECT id, state, temp_path, local_path FROM files
            WHERE temp_path IS NOT NULL AND state IN ('retained', 'discarded')
            """)
        var effects: [FileEffect] = []
        while try statement.step() {
            let action: FileEffect.Action = statement.text(1) == FileState.retained.rawValue ? .finishRename : .removeTemp
            effects.append(FileEffect(fileRowID: statement.int64(0), action: action, tempPath: statement.text(2), localPath: statement.text(3)))
        }
        return effects
    }

    /// Forgets the temp paths of files whose clean-up is done.
    func clearTempPaths(_ fileRowIDs: [Int64]) throws(QueueError) {
        let clear = try statement("UPDATE files SET temp_path = NULL WHERE id = ?")
        for id in fileRowIDs {
            try clear.bind(.integer(id))
            try clear.run()
            clear.reset()
        }
    }

    /// Every file caught while `finalizing`.
    func finalizingFiles() throws(QueueError) -> [FinalizingFile] {
        let statement = try statement("SELECT id, temp_path, local_path, bytes_total FROM files WHERE state = 'finalizing'")
        var rows: [FinalizingFile] = []
        while try statement.step() {
            rows.append((statement.int64(0), statement.optionalText(1), statement.text(2), statement.optionalInt64(3)))
        }
        return rows
    }

    /// `transferring` files back to `queued` with their committed bytes; transferring groups with
    /// nothing in flight wait as `queued`.
    func requeueInterruptedTransfers() throws(QueueError) {
        try statement("UPDATE files SET state = 'queued' WHERE state = 'transferring'").run()
        try TransferLedger.requeueIdleGroups(self)
    }

    /// A file starts over from its first byte.
    func restartFile(_ fileRowID: Int64) throws(QueueError) {
        try statement("UPDATE files SET state = 'queued', bytes_done = 0, validator = NULL WHERE id = ?")
            .bind(.integer(fileRowID)).run()
    }

    /// Files waiting (queued or in error) that have a temp file, with their committed bytes.
    func waitingTemps() throws(QueueError) -> [(id: Int64, temp: String, done: UInt64, failed: Bool)] {
        let statement = try statement(
            """
            SELECT id, temp_path, bytes_done, state FROM files WHERE state IN ('queued', 'error') AND temp_path IS NOT NULL
            """)
        var rows: [(id: Int64, temp: String, done: UInt64, failed: Bool)] = []
        while try statement.step() {
            rows.append((statement.int64(0), statement.text(1), UInt64(statement.int64(2)), statement.text(3) == FileState.error.rawValue))
        }
        return rows
    }

    /// Sets a file's committed bytes (forgetting its validator when it starts over).
    func setCommittedBytes(_ fileRowID: Int64, _ bytes: UInt64) throws(QueueError) {
        try statement("UPDATE files SET bytes_done = ?, validator = CASE WHEN ? = 0 THEN NULL ELSE validator END WHERE id = ?")
            .bind(.integer(Int64(bytes)), .integer(Int64(bytes)), .integer(fileRowID)).run()
    }

    /// Puts a waiting or transferring file in `error`, and its group (unless cancelled) in `error`
    /// with `message`, recorded as a `groupError` event. A file in any other state is left alone.
    func quarantine(_ fileRowID: Int64, message: String, systemError: Int32?, at now: Int64) throws(QueueError) {
        let owner = try statement(
            """
            SELECT g.id, j.id, f.position, f.retries FROM files f JOIN jobs j ON j.id = f.job_id JOIN groups g ON g.id = j.group_id
            WHERE f.id = ? AND g.state <> 'cancelled' AND f.state IN ('queued', 'transferring', 'finalizing')
            """
        ).bind(.integer(fileRowID))
        guard try owner.step() else { return }
        let (group, job, index, retries) = (owner.int64(0), owner.int64(1), owner.int(2), owner.int(3))
        owner.reset()
        try statement("UPDATE files SET state = 'error' WHERE id = ?").bind(.integer(fileRowID)).run()
        try statement(
            """
            UPDATE groups SET state = 'error', modified_at = ?, retry_at = NULL, error_count = error_count + 1,
                   last_error_code = ?, last_error_message = ?, last_error_system = ?, last_error_http = NULL,
                   last_error_retries = ?, last_error_file_id = ?
            WHERE id = ?
            """
        )
        .bind(
            .integer(now), .text(QueueError.Code.fileSystem.description), .text(message),
            .optional(systemError.map(Int64.init)), .int(retries), .integer(fileRowID), .integer(group)
        )
        .run()
        try EventLog.record(self, .groupError, group: group, job: job, fileIndex: index, state: .error, detail: message, at: now)
    }

    /// Problems `PRAGMA integrity_check` and `PRAGMA foreign_key_check` find, one line each; empty
    /// if the database is sound.
    func integrityProblems() throws(QueueError) -> [String] {
        var problems: [String] = []
        let integrity = try statement("PRAGMA integrity_check")
        while try integrity.step() {
            let line = integrity.text(0)
            if line != "ok" { problems.append(line) }
        }
        let foreignKeys = try statement("PRAGMA foreign_key_check")
        while try foreignKeys.step() {
            problems.append("row \(foreignKeys.int64(1)) of table \(foreignKeys.text(0)) refers to a missing row of \(foreignKeys.text(2))")
        }
        return problems
    }
}
