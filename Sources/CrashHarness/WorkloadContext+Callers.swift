import BackgroundCopy
import Foundation

/// How one caller of a concurrent workload reaches the queue.
enum Caller: Sendable {
    /// Blocking calls, each made on a thread of its own, as a host thread makes them: a call that
    /// finds the writer idle leads its batch on that thread, and others join it.
    case blocking
    /// `async` calls: each is handed to the writer thread and suspends until its batch commits.
    case async

    /// Makes one call the caller's way: `blocking` is the call's synchronous form, `async` its async one.
    func call<T: Sendable>(
        _ blocking: @escaping @Sendable () throws(QueueError) -> T,
        _ async: @Sendable () async throws(QueueError) -> T
    ) async throws(QueueError) -> T {
        switch self {
        case .async:
            return try await async()
        case .blocking:
            let call = BlockingCall(blocking)
            let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, QueueError>, Never>) in
                Thread { continuation.resume(returning: call.run()) }.start()
            }
            return try result.get()
        }
    }
}

/// A blocking call, handed to the thread that makes it.
///
/// `@unchecked Sendable`: `body` is set before the thread starts and taken once, by that thread.
private final class BlockingCall<T: Sendable>: @unchecked Sendable {
    private var body: (@Sendable () throws(QueueError) -> T)?

    init(_ body: @escaping @Sendable () throws(QueueError) -> T) {
        self.body = body
    }

    /// Makes the call and lets go of it before returning, so the queue handles it holds are released
    /// before its caller resumes: else the queue could outlive the trial and close (and sync) after
    /// the simulator was reset for the next one.
    func run() -> Result<T, QueueError> {
        guard let body = body.take() else { return .failure(QueueError(.invalidState, "the call was already made")) }
        return Result(catching: body)
    }
}

/// The concurrent workload's calls: each records its attempt, then its acknowledgement (or, for
/// a batch the library must refuse, the refusal), as the single-caller helpers do.
extension WorkloadContext {
    /// Creates group `number` (``groupID(_:)``, named "group `number`") by `caller`.
    func createGroup(_ number: Int, by caller: Caller) async throws(QueueError) -> Group {
        let id = WorkloadContext.groupID(number)
        let manager = try queue()
        let properties = GroupProperties(displayName: "group \(number)")
        acks.record(.groupAttempted(id))
        let group = try await caller.call(
            { () throws(QueueError) in try manager.createGroup(id: GroupID(id), properties: properties) },
            { () async throws(QueueError) in try await manager.createGroup(id: GroupID(id), properties: properties) })
        acks.record(.groupCreated(id))
        return group
    }

    func add(_ pairs: [(local: String, source: String)], to job: Job, by caller: Caller) async throws(QueueError) {
        let (batch, specs) = files(pairs)
        acks.record(.filesAttempted(group: job.groupID.uuid, batch: batch))
        try await caller.call(
            { () throws(QueueError) in try job.addFiles(specs) },
            { () async throws(QueueError) in try await job.addFiles(specs) })
        acks.record(.filesAdded(group: job.groupID.uuid, batch: batch))
    }

    /// Adds a batch the library must refuse part-way: its last local path is already used by a
    /// live file of another group, so the rows of the files before it were inserted when the call
    /// threw, and must roll back with it. Throws ``RefusalMissing`` if the batch was added.
    func addRefused(_ pairs: [(local: String, source: String)], to job: Job, by caller: Caller) async throws {
        let (batch, specs) = files(pairs)
        acks.record(.filesAttempted(group: job.groupID.uuid, batch: batch))
        do throws(QueueError) {
            try await caller.call(
                { () throws(QueueError) in try job.addFiles(specs) },
                { () async throws(QueueError) in try await job.addFiles(specs) })
        } catch {
            guard error.code == .invalidArgument else { throw error }
            acks.record(.filesRefused(group: job.groupID.uuid, batch: batch))
            return
        }
        throw RefusalMissing(local: pairs.last?.local ?? "")
    }

    /// Sets the display name and description of `group` to their `version`.
    func setProperties(of group: Group, version: Int, by caller: Caller) async throws(QueueError) {
        let id = group.id.uuid
        let name = "version \(version) of \(id)"
        let properties = GroupProperties(displayName: name, description: "described by version \(version)")
        acks.record(.propertiesAttempted(group: id, name: name, description: properties.description))
        try await caller.call(
            { () throws(QueueError) in try group.setProperties(properties) },
            { () async throws(QueueError) in try await group.setProperties(properties) })
        acks.record(.propertiesSet(group: id, name: name, description: properties.description))
    }

    func resume(_ group: Group, by caller: Caller) async throws(QueueError) {
        try await caller.call(
            { () throws(QueueError) in try group.resume() },
            { () async throws(QueueError) in try await group.resume() })
        acks.record(.resumed(group.id.uuid))
    }

    /// Cancels `group` by `caller` (the workload transfers nothing, so no file of it is complete).
    func cancel(_ group: Group, by caller: Caller) async throws(QueueError) {
        try await caller.call(
            { () throws(QueueError) in try group.cancel() },
            { () async throws(QueueError) in try await group.cancel() })
        acks.record(.cancelled(group: group.id.uuid, complete: []))
    }

    private func files(_ pairs: [(local: String, source: String)]) -> ([AckLog.FileRef], [FileSpec]) {
        (
            pairs.map { AckLog.FileRef(local: $0.local, source: $0.source) },
            pairs.map { FileSpec(remote: "file://\($0.source)", local: $0.local) }
        )
    }
}

/// A batch the library had to refuse was added.
struct RefusalMissing: Error, CustomStringConvertible {
    let local: String
    var description: String { "a batch whose local path \(local) is used by another group was added" }
}
