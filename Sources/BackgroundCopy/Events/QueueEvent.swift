import Foundation

/// One row of the events outbox: a state change, recorded in the transaction that made it.
public struct QueueEvent: Sendable, Hashable {
    /// Strictly increasing over the queue's life; never reused.
    public let sequence: Int64
    /// What happened.
    public let kind: EventKind
    /// The group it happened to.
    public let groupID: GroupID
    /// The job, for job and file events.
    public let jobID: JobID?
    /// The file's zero-based index in its job, for file events.
    public let fileIndex: Int?
    /// The group's state after the change.
    public let groupState: GroupState
    /// A short detail: bytes done for progress, the local path for a completed file, `retained N,
    /// discarded M` for cancels, the error message for errors.
    public let detail: String
    /// When the change was committed.
    public let date: Date
}

/// The OnStatus counterpart: told of every event its groups' notify flags let through, in order,
/// after the change committed.
///
/// Delivery is at least once: an event is acknowledged — durably, under the name the observer was
/// registered with — only when ``queueManager(_:didRecord:)`` returns normally. If it throws (QMGR:
/// OnStatus returning an error), the same event is offered again after the redelivery delay, and
/// nothing after it is delivered until it is accepted. After a restart, delivery resumes after
/// the last acknowledged event, so no observer sees an acknowledged event twice.
public protocol QueueObserver: Sendable {
    /// Handles one event. Return to acknowledge it; throw to have it delivered again later.
    func queueManager(_ manager: QueueManager, didRecord event: QueueEvent) async throws
}
