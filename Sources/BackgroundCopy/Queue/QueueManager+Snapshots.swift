/// Snapshots: a group's or the whole queue's state in one read transaction, for displays that
/// would otherwise make one call per part (and could see parts from different instants).
extension Group {
    /// The group's properties, status, progress and jobs, read together.
    /// - Throws: `notFound` if the group was cancelled.
    public func snapshot() throws(QueueError) -> GroupSnapshot {
        let parts = try core.store.read { [id] db throws(QueueError) in try db.groupParts(id) }
        return GroupSnapshot(core: core, parts)
    }

    /// The `async` form of ``snapshot()``.
    public func snapshot() async throws(QueueError) -> GroupSnapshot {
        let parts = try await core.store.read { [id] db throws(QueueError) in try db.groupParts(id) }
        return GroupSnapshot(core: core, parts)
    }
}

extension QueueManager {
    /// A snapshot of every live group, in creation order, all read in one transaction.
    public func summaries() throws(QueueError) -> [GroupSnapshot] {
        try core.store.read { db throws(QueueError) in try db.allGroupParts() }.map { GroupSnapshot(core: core, $0) }
    }

    /// The `async` form of ``summaries()``.
    public func summaries() async throws(QueueError) -> [GroupSnapshot] {
        try await core.store.read { db throws(QueueError) in try db.allGroupParts() }.map { GroupSnapshot(core: core, $0) }
    }

    /// The sequence number of the newest recorded event; 0 if none was ever recorded. Events
    /// recorded later have higher numbers.
    public func lastEventSequence() throws(QueueError) -> Int64 {
        try core.store.read { db throws(QueueError) in try db.lastEventSequence() }
    }

    /// The `async` form of ``lastEventSequence()``.
    public func lastEventSequence() async throws(QueueError) -> Int64 {
        try await core.store.read { db throws(QueueError) in try db.lastEventSequence() }
    }
}

extension GroupSnapshot {
    init(core: QueueCore, _ parts: Connection.GroupParts) {
        self.init(
            group: Group(id: parts.id, core: core), properties: parts.properties, status: parts.status, progress: parts.progress,
            jobs: parts.jobs.map {
                JobSnapshot(
                    job: Job(id: $0.id, group: parts.id, core: core), progress: $0.progress,
                    currentFileIndex: $0.currentFileIndex)
            })
    }
}
