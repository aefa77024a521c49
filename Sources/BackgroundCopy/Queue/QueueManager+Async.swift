import Foundation

/// The `async` forms of ``QueueManager``'s calls: the same transactions, suspending instead of
/// blocking while they wait for the writer's commit or a reader.
extension QueueManager {
    /// Creates a new, suspended group (QMGR: CreateGroup).
    /// - Throws: `alreadyExists` if a live or cancelled group has `id`; `invalidArgument` naming a bad property.
    @discardableResult
    public func createGroup(id: GroupID? = nil, properties: GroupProperties) async throws(QueueError) -> Group {
        try core.validator.validate(properties)
        let id = id ?? GroupID()
        let now = core.now()
        try await core.store.write { db throws(QueueError) in try db.createGroup(id, properties, at: now) }
        return Group(id: id, core: core)
    }

    /// Opens a live group (QMGR: GetGroup).
    /// - Throws: `notFound` if no group has `id`, or it was cancelled.
    public func group(_ id: GroupID) async throws(QueueError) -> Group {
        try await core.store.read { db throws(QueueError) in _ = try db.liveGroup(id) }
        return Group(id: id, core: core)
    }

    /// Every live group, in creation order, as a snapshot taken now (QMGR: EnumGroups).
    public func groups() async throws(QueueError) -> [Group] {
        try await core.store.read { db throws(QueueError) in try db.liveGroupIDs() }.map { Group(id: $0, core: core) }
    }

    /// Removes the rows of tombstones cancelled before `date`; see the blocking form.
    /// - Returns: How many tombstones (groups and jobs) were purged.
    @discardableResult
    public func purgeTombstones(olderThan date: Date) async throws(QueueError) -> Int {
        let purge = TombstonePurge(cutoff: Int64((date.timeIntervalSince1970 * 1000).rounded()))
        return try await core.store.write { db throws(QueueError) in try purge.run(db) }
    }
}
