/// Writes rows of the `events` outbox, always inside the transaction that made the change,
/// so an event exists if and only if its change was committed — and with a `groupComplete` or
/// `groupError` event, the notify command it owes (``Connection/queueNotifyRun(event:kind:group:at:)``).
enum EventLog {
    static func record(
        _ db: Connection, _ kind: EventKind, group: Int64, job: Int64? = nil, fileIndex: Int? = nil,
        state: GroupState, detail: String = "", at now: Int64
    ) throws(QueueError) {
        try db.statement(
            """
            INSERT INTO events (at, group_id, job_id, file_index, kind, state, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
            """
        )
        .bind(
            .integer(now), .integer(group), .optional(job), .optional(fileIndex.map(Int64.init)),
            .text(kind.rawValue), .text(state.rawValue), .text(detail)
        )
        .run()
        if kind == .groupComplete || kind == .groupError {
            try db.queueNotifyRun(event: db.lastInsertRowID, kind: kind, group: group, at: now)
        }
    }
}
