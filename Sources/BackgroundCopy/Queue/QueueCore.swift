import Foundation
import Logging

/// What a ``QueueManager`` and every ``Group`` and ``Job`` handle share: the store, validation,
/// the file system and the logger.
final class QueueCore: Sendable {
    let store: Store
    let configuration: QueueManager.Configuration
    let validator: Validator
    let fileSystem: any FileSystem
    let logger: Logger

    init(store: Store, configuration: QueueManager.Configuration, fileSystem: any FileSystem, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.validator = Validator(configuration: configuration, fileSystem: fileSystem)
        self.fileSystem = fileSystem
        self.logger = logger
    }

    /// Wall-clock time in Unix milliseconds (``QueueManager/Configuration/wallClock``), for the
    /// timestamps in the rows.
    func now() -> Int64 {
        Int64((configuration.wallClock().timeIntervalSince1970 * 1000).rounded())
    }

    /// The row of a live (not cancelled) group, or `notFound`.
    func liveGroup(_ db: Connection, _ id: GroupID) throws(QueueError) -> GroupRow {
        let statement = try db.statement("""
            SELECT id, state, priority FROM groups WHERE uuid = ? AND state <> 'cancelled'
            """).bind(.blob(id.uuid.bytes))
        guard try statement.step() else { throw .notFound("group", id.description) }
        return GroupRow(
            rowID: statement.int64(0),
            state: GroupState(rawValue: statement.text(1)) ?? .error,
            priority: Priority(rawValue: statement.int(2)) ?? .normal)
    }

    /// The row ID of a live job of a live group, or `notFound`.
    func liveJob(_ db: Connection, group: GroupID, job: JobID) throws(QueueError) -> (group: GroupRow, job: Int64) {
        let groupRow = try liveGroup(db, group)
        let statement = try db.statement("""
            SELECT id FROM jobs WHERE uuid = ? AND group_id = ? AND state = 'active'
            """).bind(.blob(job.uuid.bytes), .integer(groupRow.rowID))
        guard try statement.step() else { throw .notFound("job", job.description) }
        return (groupRow, statement.int64(0))
    }
}

/// The few columns of a group that most operations need.
struct GroupRow: Sendable {
    let rowID: Int64
    let state: GroupState
    let priority: Priority
}
