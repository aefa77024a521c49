/// One notify command the engine owes: the event that called for it and the command as it stood
/// when the event was committed.
struct PendingNotifyRun: Sendable, Equatable {
    let sequence: Int64
    let kind: EventKind
    let groupID: GroupID
    /// `nil` if the stored command cannot be read (the run is then recorded as not started).
    let command: NotifyCommand?
}

/// The completion hooks (BITS: SetNotifyCmdLine): the group's command, the runs owed
/// (`notify_runs`, written in the event's own transaction) and how each ended.
extension Connection {
    /// Within the transaction that recorded `event` (a `groupComplete` or `groupError` of row
    /// `group`): records that the group's notify command must run for it, if the group has one and
    /// its notify flags let the event through (not `disable`).
    func queueNotifyRun(event: Int64, kind: EventKind, group: Int64, at now: Int64) throws(QueueError) {
        try statement(
            """
            INSERT INTO notify_runs (event_seq, command, queued_at)
            SELECT ?1, notify_command, ?2 FROM groups
            WHERE id = ?3 AND notify_command IS NOT NULL
              AND (notify_flags & \(NotifyFlags.disable.rawValue)) = 0 AND (notify_flags & ?4) <> 0
            """
        ).bind(.integer(event), .integer(now), .integer(group), .integer(Int64(kind.notifyFlag.rawValue))).run()
    }

    /// The runs owed, oldest event first, at most `limit`.
    func pendingNotifyRuns(limit: Int) throws(QueueError) -> [PendingNotifyRun] {
        let statement = try statement(
            """
            SELECT r.event_seq, e.kind, g.uuid, r.command
            FROM notify_runs r JOIN events e ON e.seq = r.event_seq JOIN groups g ON g.id = e.group_id
            ORDER BY r.event_seq LIMIT ?
            """
        ).bind(.int(limit))
        var runs: [PendingNotifyRun] = []
        while try statement.step() {
            guard let kind = EventKind(rawValue: statement.text(1)), let group = statement.uuid(2) else { continue }
            runs.append(
                PendingNotifyRun(
                    sequence: statement.int64(0), kind: kind, groupID: GroupID(group),
                    command: NotifyCommand(stored: statement.text(3))))
        }
        return runs
    }

    /// Settles the run for event `sequence`: deletes it and records a `notifyCommandFinished` event
    /// saying how it went, in one transaction. Returns `false` (and records nothing) if the run was
    /// no longer owed (settled already, or purged with its group's events).
    @discardableResult
    func finishNotifyRun(_ sequence: Int64, detail: String, at now: Int64) throws(QueueError) -> Bool {
        let owner = try statement(
            """
            SELECT e.group_id, g.state FROM notify_runs r JOIN events e ON e.seq = r.event_seq
            JOIN groups g ON g.id = e.group_id WHERE r.event_seq = ?
            """
        ).bind(.integer(sequence))
        guard try owner.step() else { return false }
        let group = owner.int64(0)
        let state = GroupState(rawValue: owner.text(1)) ?? .error
        try statement("DELETE FROM notify_runs WHERE event_seq = ?").bind(.integer(sequence)).run()
        try EventLog.record(self, .notifyCommandFinished, group: group, state: state, detail: detail, at: now)
        return true
    }

    /// Sets or clears a live group's notify command (already validated) and records the change.
    func setNotifyCommand(_ id: GroupID, _ command: NotifyCommand?, at now: Int64) throws(QueueError) {
        let row = try liveGroup(id)
        try statement("UPDATE groups SET notify_command = ?, modified_at = ? WHERE id = ?")
            .bind(.optional(command?.stored), .integer(now), .integer(row.rowID)).run()
        try EventLog.record(
            self, .modified, group: row.rowID, state: row.state,
            detail: command == nil ? "notify command cleared" : "notify command", at: now)
    }
}
