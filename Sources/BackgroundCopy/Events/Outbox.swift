/// Reads the events outbox and keeps the observers' acknowledged positions.
struct Outbox: Sendable {
    let core: QueueCore

    /// Events after `sequence`, in order, at most `limit`; with `filtered`, only those the
    /// group's notify flags let through (none for a group with `disable`).
    func events(after sequence: Int64, limit: Int, filtered: Bool) throws(QueueError) -> [QueueEvent] {
        try core.store.read { db throws(QueueError) in try db.events(after: sequence, limit: limit, filtered: filtered) }
    }

    /// The `async` form of ``events(after:limit:filtered:)``.
    func events(after sequence: Int64, limit: Int, filtered: Bool) async throws(QueueError) -> [QueueEvent] {
        try await core.store.read { db throws(QueueError) in try db.events(after: sequence, limit: limit, filtered: filtered) }
    }

    /// The last sequence acknowledged under `name`; registers the name (at 0) the first time.
    func position(of name: String) async throws(QueueError) -> Int64 {
        let now = core.now()
        return try await core.store.write { db throws(QueueError) in try db.observerPosition(name, registeringAt: now) }
    }

    /// Records that `name` has handled everything up to `sequence`.
    func acknowledge(_ name: String, through sequence: Int64) async throws(QueueError) {
        try await core.store.write { db throws(QueueError) in try db.acknowledge(name, through: sequence) }
    }

    /// Waits until the database changed since `stamp`: at once for a commit of this process,
    /// within the poll interval for another process's.
    func waitForChange(since stamp: ChangeStamp) async throws(QueueError) -> ChangeStamp {
        try await core.store.waitForChange(since: stamp, pollInterval: core.configuration.changePollInterval)
    }
}
