import Foundation

/// The one connection that writes, owned by one thread, committing waiting calls together.
///
/// Calls queue up; the writer thread takes every call that is waiting (up to ``maxBatch``, and
/// more that arrive while the batch is young), runs each call's body in its own `SAVEPOINT`
/// inside one `BEGIN IMMEDIATE … COMMIT`, and commits once: one fsync for the whole batch. A body
/// that throws rolls back its own savepoint only and gets its own error; a failed `COMMIT` fails
/// every call in the batch, and none of their changes exist. A caller hears its outcome only after
/// the commit, so a call that returned is durable (group commit). Blocking SQLite work — steps,
/// fsync, busy waits — runs only on this thread, never on the caller's.
final class Writer: Sendable {
    /// The most calls one transaction holds.
    static let maxBatch = 256
    /// How long a batch keeps taking newly arrived calls before it commits.
    static let batchWindow: Duration = .milliseconds(4)

    private let queue: WriteQueue
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the writer thread, which takes over `connection` (configured and migrated).
    /// `committed` runs on the writer thread after every successful commit.
    init(connection: Connection, committed: @escaping @Sendable () -> Void) {
        let queue = WriteQueue()
        self.queue = queue
        let owned = OwnedConnection(connection)
        let finished = finished
        let thread = Thread {
            WriterLoop(connection: owned.connection, queue: queue, committed: committed).run()
            owned.close()
            finished.signal()
        }
        thread.name = "BackgroundCopy.Writer"
        thread.start()
    }

    /// Lets queued calls finish, then stops the thread and closes the connection.
    func close() {
        queue.stop()
        if !Thread.current.isWriter { finished.wait() }
    }

    /// Runs `body` in the next batch and blocks until that batch has committed.
    func write<T: Sendable>(_ body: (Connection) throws(QueueError) -> T) throws(QueueError) -> T {
        precondition(!Thread.current.isWriter, "a store write was issued from inside another write")
        let result = withoutActuallyEscaping(body) { escapable -> Result<T, QueueError> in
            let done = DispatchSemaphore(value: 0)
            let slot = ResultSlot<T>()
            queue.enqueue(WriteRequest(escapable) { result in
                slot.value = result
                done.signal()
            })
            done.wait()
            return slot.value ?? .failure(QueueError(.storage, "the writer stopped"))
        }
        return try result.get()
    }

    /// Runs `body` in the next batch, suspending (not blocking) until that batch has committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Connection) throws(QueueError) -> T) async throws(QueueError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, QueueError>, Never>) in
            queue.enqueue(WriteRequest(body) { continuation.resume(returning: $0) })
        }
        return try result.get()
    }
}

/// Where a blocking caller's result waits for it; written once by the writer before the caller's
/// semaphore is signalled, read once after (the semaphore orders the two).
private final class ResultSlot<T>: @unchecked Sendable {
    var value: Result<T, QueueError>?
}

/// The writer's connection, handed from the opening thread to the writer thread, which alone uses
/// it from then on (`@unchecked Sendable` for that one hand-over).
private final class OwnedConnection: @unchecked Sendable {
    private(set) var connection: Connection!
    init(_ connection: Connection) { self.connection = connection }
    func close() { connection = nil }
}

extension Thread {
    /// Whether this is a store's writer thread, where a nested store write would wait for itself.
    var isWriter: Bool { name == "BackgroundCopy.Writer" }
}

/// The calls waiting for the writer, and the flag that stops it.
final class WriteQueue: @unchecked Sendable {
    // `@unchecked Sendable`: `pending` and `stopping` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var pending: [any WriteWork] = []
    private var head = 0
    private var stopping = false

    func enqueue(_ work: any WriteWork) {
        condition.lock()
        let refused = stopping
        if !refused {
            pending.append(work)
            condition.signal()
        }
        condition.unlock()
        if refused { work.finish(QueueError(.invalidState, "the queue is closed")) }
    }

    /// Waits for work; `nil` once stopped and drained.
    func next(upTo limit: Int) -> [any WriteWork]? {
        condition.lock()
        defer { condition.unlock() }
        while head == pending.count && !stopping { condition.wait() }
        if head == pending.count { return nil }
        return take(limit)
    }

    /// Whatever is waiting now, without blocking.
    func available(upTo limit: Int) -> [any WriteWork] {
        condition.lock()
        defer { condition.unlock() }
        return take(limit)
    }

    /// Puts calls that never ran back at the front, in their order.
    func requeue(_ works: [any WriteWork]) {
        guard !works.isEmpty else { return }
        condition.lock()
        pending.replaceSubrange(0..<head, with: [])
        pending.insert(contentsOf: works, at: 0)
        head = 0
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func take(_ limit: Int) -> [any WriteWork] {
        let end = min(pending.count, head + limit)
        let batch = Array(pending[head..<end])
        head = end
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        }
        return batch
    }
}
