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
        try core.store.read { [id] db throws(QueueError) in try db.groupProperties(id) }
    }

    /// Replaces the group's properties after validating all of them (QMGR: SetProp).
    ///
    /// - Throws: `invalidArgument` naming the first bad value (nothing is written); `notFound`.
    public func setProperties(_ properties: GroupProperties) throws(QueueError) {
        try core.validator.validate(properties)
        let now = core.now()
        try core.store.write { [id] db throws(QueueError) in try db.setGroupProperties(id, properties, at: now) }
    }

    /// Progress over every file of every live job of the group (QMGR: GetProgress).
    public func progress() throws(QueueError) -> TransferProgress {
        try core.store.read { [id] db throws(QueueError) in try db.groupProgress(id) }
    }

    /// Total bytes of the group's files whose size is known; 0 if none is (QMGR: get_Size, without its 4 GiB cap).
    public func size() throws(QueueError) -> UInt64 {
        try progress().bytesTotal
    }

    /// The group's state, QMGR status flags, current job and last error (QMGR: GetStatus).
    public func status() throws(QueueError) -> GroupStatus {
        try core.store.read { [id] db throws(QueueError) in try db.groupStatus(id) }
    }
}
