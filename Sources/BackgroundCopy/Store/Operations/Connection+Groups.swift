import Foundation

/// The few columns of a group that most operations need.
struct GroupRow: Sendable {
    let rowID: Int64
    let state: GroupState
    let priority: Priority
}

/// Group operations: lookup, creation, properties and the enumeration of live groups.
extension Connection {
    /// The row of a live (not cancelled) group, or `notFound`.
    func liveGroup(_ id: GroupID) throws(QueueError) -> GroupRow {
        let statement = try statement("SELECT id, state, priority FROM groups WHERE uuid = ? AND state <> ?")
            .bind(.blob(id.uuid.bytes), .state(GroupState.cancelled))
        guard try statement.step() else { throw .notFound("group", id.description) }
        return GroupRow(
            rowID: statement.int64(0),
            state: GroupState(rawValue: statement.text(1)) ?? .error,
            priority: Priority(rawValue: statement.int(2)) ?? .normal)
    }

    /// Inserts a new suspended group with its `groupCreated` event.
    /// - Throws: `alreadyExists` if a live or cancelled group has `id`.
    func createGroup(_ id: GroupID, _ properties: GroupProperties, at now: Int64) throws(QueueError) {
        let existing = try statement("SELECT 1 FROM groups WHERE uuid = ?").bind(.blob(id.uuid.bytes))
        guard try !existing.step() else { throw .alreadyExists("group", id.description) }
        try statement(
            """
            INSERT INTO groups (uuid, priority, display_name, description, notify_flags, retry_delay_ms,
                                no_progress_timeout_ms, http_headers, notify_command, created_at, modified_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        )
        .bind(
            .blob(id.uuid.bytes), .int(properties.priority.rawValue), .text(properties.displayName),
            .text(properties.description), .integer(Int64(properties.notifyFlags.rawValue)),
            .integer(properties.retryDelay.milliseconds), .integer(properties.noProgressTimeout.milliseconds),
            .text(HeaderCoding.encode(properties.httpHeaders)), .optional(properties.notifyCommand?.stored),
            .integer(now), .integer(now)
        )
        .run()
        try EventLog.record(self, .groupCreated, group: lastInsertRowID, state: .suspended, at: now)
    }

    /// The IDs of every live group, in creation order.
    func liveGroupIDs() throws(QueueError) -> [GroupID] {
        // The state is written out, not bound: only then can SQLite use the partial index
        // `groups_live` (migration 4) and skip the tombstones.
        let statement = try statement("SELECT uuid FROM groups INDEXED BY groups_live WHERE state <> 'cancelled' ORDER BY id")
        var ids: [GroupID] = []
        while try statement.step() {
            if let uuid = statement.uuid(0) { ids.append(GroupID(uuid)) }
        }
        return ids
    }

    /// A live group's properties.
    func groupProperties(_ id: GroupID) throws(QueueError) -> GroupProperties {
        let row = try liveGroup(id)
        let statement = try statement(
            """
            SELECT display_name, description, priority, notify_flags, retry_delay_ms, no_progress_timeout_ms, http_headers,
                   notify_command
            FROM groups WHERE id = ?
            """
        ).bind(.integer(row.rowID))
        _ = try statement.step()
        return GroupProperties(
            displayName: statement.text(0),
            description: statement.text(1),
            priority: Priority(rawValue: statement.int(2)) ?? .normal,
            notifyFlags: NotifyFlags(rawValue: UInt32(truncatingIfNeeded: statement.int64(3))),
            retryDelay: .milliseconds(statement.int64(4)),
            noProgressTimeout: .milliseconds(statement.int64(5)),
            httpHeaders: HeaderCoding.decode(statement.text(6)),
            notifyCommand: statement.optionalText(7).flatMap(NotifyCommand.init(stored:)))
    }

    /// Replaces a live group's properties (already validated) and records the change.
    func setGroupProperties(_ id: GroupID, _ properties: GroupProperties, at now: Int64) throws(QueueError) {
        let row = try liveGroup(id)
        try statement(
            """
            UPDATE groups SET display_name = ?, description = ?, priority = ?, notify_flags = ?, retry_delay_ms = ?,
                              no_progress_timeout_ms = ?, http_headers = ?, notify_command = ?, modified_at = ?
            WHERE id = ?
            """
        )
        .bind(
            .text(properties.displayName), .text(properties.description), .int(properties.priority.rawValue),
            .integer(Int64(properties.notifyFlags.rawValue)), .integer(properties.retryDelay.milliseconds),
            .integer(properties.noProgressTimeout.milliseconds), .text(HeaderCoding.encode(properties.httpHeaders)),
            .optional(properties.notifyCommand?.stored), .integer(now), .integer(row.rowID)
        )
        .run()
        try EventLog.record(self, .modified, group: row.rowID, state: row.state, detail: "properties", at: now)
    }

    /// Progress over every file of every live job of a live group.
    func groupProgress(_ id: GroupID) throws(QueueError) -> TransferProgress {
        try ProgressQuery.group(self, liveGroup(id).rowID)
    }

    /// A live group's state, flags, current job and last error.
    func groupStatus(_ id: GroupID) throws(QueueError) -> GroupStatus {
        try StatusQuery.group(self, liveGroup(id))
    }
}

extension SQLValue {
    /// A group, job or file state, bound as its stored text.
    static func state<State: RawRepresentable<String>>(_ state: State) -> SQLValue { .text(state.rawValue) }
}
