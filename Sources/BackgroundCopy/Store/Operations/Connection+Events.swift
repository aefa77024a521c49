import Foundation

/// The events outbox as observers read it, and their acknowledged positions.
extension Connection {
    /// Events after `sequence`, in order, at most `limit`; with `filtered`, only those the
    /// group's notify flags let through (none for a group with `disable`).
    func events(after sequence: Int64, limit: Int, filtered: Bool) throws(QueueError) -> [QueueEvent] {
        let statement = try statement(
            """
            SELECT e.seq, e.kind, g.uuid, j.uuid, e.file_index, e.state, e.detail, e.at
            FROM events e JOIN groups g ON g.id = e.group_id LEFT JOIN jobs j ON j.id = e.job_id
            WHERE e.seq > ?1
              AND (NOT ?3 OR ((g.notify_flags & \(NotifyFlags.disable.rawValue)) = 0 AND (g.notify_flags & (CASE e.kind
                    WHEN 'groupComplete' THEN \(NotifyFlags.groupDone.rawValue)
                    WHEN 'groupError' THEN \(NotifyFlags.error.rawValue)
                    WHEN 'jobComplete' THEN \(NotifyFlags.jobDone.rawValue)
                    WHEN 'fileComplete' THEN \(NotifyFlags.fileDone.rawValue)
                    WHEN 'progress' THEN \(NotifyFlags.progress.rawValue)
                    ELSE \(NotifyFlags.modification.rawValue) END)) <> 0))
            ORDER BY e.seq LIMIT ?2
            """
        ).bind(.integer(sequence), .int(limit), .integer(filtered ? 1 : 0))
        var events: [QueueEvent] = []
        while try statement.step() {
            guard let kind = EventKind(rawValue: statement.text(1)), let group = statement.uuid(2) else { continue }
            events.append(
                QueueEvent(
                    sequence: statement.int64(0), kind: kind, groupID: GroupID(group),
                    jobID: statement.uuid(3).map(JobID.init),
                    fileIndex: statement.optionalInt64(4).map(Int.init),
                    groupState: GroupState(rawValue: statement.text(5)) ?? .error, detail: statement.text(6),
                    date: Date(timeIntervalSince1970: Double(statement.int64(7)) / 1000)))
        }
        return events
    }

    /// The last sequence acknowledged under `name`; registers the name (at 0) the first time.
    func observerPosition(_ name: String, registeringAt now: Int64) throws(QueueError) -> Int64 {
        try statement("INSERT INTO observers (name, registered_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
            .bind(.text(name), .integer(now)).run()
        let statement = try statement("SELECT acked_seq FROM observers WHERE name = ?").bind(.text(name))
        _ = try statement.step()
        return statement.int64(0)
    }

    /// Records that `name` has handled everything up to `sequence`.
    func acknowledge(_ name: String, through sequence: Int64) throws(QueueError) {
        try statement("UPDATE observers SET acked_seq = max(acked_seq, ?) WHERE name = ?")
            .bind(.integer(sequence), .text(name)).run()
    }
}
