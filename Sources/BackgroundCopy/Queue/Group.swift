import Foundation

/// A handle to a group of jobs (QMGR: IBackgroundCopyGroup).
///
/// A value: cheap to copy and compare, `Sendable`. It holds only the ID, so every call reads the
/// queue afresh in its own transaction; once the group is cancelled, every call throws `notFound`.
public struct Group: Sendable, Hashable, Identifiable {
    /// The group's ID (QMGR: get_GroupID).
    public let id: GroupID
    let core: QueueCore

    init(id: GroupID, core: QueueCore) {
        self.id = id
        self.core = core
    }

    /// Two handles are equal when they name the same group of the same queue manager.
    public static func == (lhs: Group, rhs: Group) -> Bool { lhs.id == rhs.id && lhs.core === rhs.core }

    /// Hashes the group's ID.
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// The group's properties (QMGR: GetProp).
    ///
    /// - Throws: `notFound` if the group was cancelled.
    public func properties() throws(QueueError) -> GroupProperties {
        try core.store.read { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            let statement = try db.statement("""
                SELECT display_name, description, priority, notify_flags, retry_delay_ms, no_progress_timeout_ms, http_headers
                FROM groups WHERE id = ?
                """).bind(.integer(row.rowID))
            _ = try statement.step()
            return GroupProperties(
                displayName: statement.text(0),
                description: statement.text(1),
                priority: Priority(rawValue: statement.int(2)) ?? .normal,
                notifyFlags: NotifyFlags(rawValue: UInt32(truncatingIfNeeded: statement.int64(3))),
                retryDelay: .milliseconds(statement.int64(4)),
                noProgressTimeout: .milliseconds(statement.int64(5)),
                httpHeaders: HeaderCoding.decode(statement.text(6)))
        }
    }

    /// Replaces the group's properties after validating all of them (QMGR: SetProp).
    ///
    /// - Throws: `invalidArgument` naming the first bad value (nothing is written); `notFound`.
    public func setProperties(_ properties: GroupProperties) throws(QueueError) {
        try core.validator.validate(properties)
        let now = core.now()
        try core.store.write { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            try db.statement("""
                UPDATE groups SET display_name = ?, description = ?, priority = ?, notify_flags = ?, retry_delay_ms = ?,
                                  no_progress_timeout_ms = ?, http_headers = ?, modified_at = ?
                WHERE id = ?
                """)
                .bind(.text(properties.displayName), .text(properties.description), .int(properties.priority.rawValue),
                      .integer(Int64(properties.notifyFlags.rawValue)), .integer(properties.retryDelay.milliseconds),
                      .integer(properties.noProgressTimeout.milliseconds), .text(HeaderCoding.encode(properties.httpHeaders)),
                      .integer(now), .integer(row.rowID))
                .run()
            try EventLog.record(db, .modified, group: row.rowID, state: row.state, detail: "properties", at: now)
        }
    }

    /// Progress over every file of every live job of the group (QMGR: GetProgress).
    public func progress() throws(QueueError) -> TransferProgress {
        try core.store.read { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            return try ProgressQuery.group(db, row.rowID)
        }
    }

    /// Total bytes of the group's files whose size is known; 0 if none is (QMGR: get_Size, without its 4 GiB cap).
    public func size() throws(QueueError) -> UInt64 {
        try progress().bytesTotal
    }

    /// The group's state, QMGR status flags, current job and last error (QMGR: GetStatus).
    public func status() throws(QueueError) -> GroupStatus {
        try core.store.read { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            return try StatusQuery.group(db, row)
        }
    }
}
