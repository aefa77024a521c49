import Foundation

/// The one connection that writes, owned by one thread, committing waiting calls together.
///
/// Calls queue up; the writer thread takes every call that is waiting (up to ``maxBatch``, and
/// more that arrive while the batch is young), runs each call's body in its own `SAVEPOINT`
/// inside one `BEGIN IMMEDIATE … COMMIT`, and commits once: one fsync for the whole batch. A body
/// that throws rolls back its own savepoint only and gets its own error; a failed `COMMIT` fails
/// every call in the batch, and none of their changes exist. A caller hears its outcome only after
/// the commit, so a call that returned is durable (group commit).
///
/// A blocking caller that finds the writer idle and nobody waiting leads the batch itself, on its
/// own thread (which it would block anyway), instead of paying two thread hand-offs: others who
/// arrive meanwhile join its batch. `async` callers always hand their call to the writer thread,
/// so SQLite work never runs on the cooperative thread pool.
final class Writer: Sendable {
    /// The most calls one transaction holds.
    static let maxBatch = 256
    /// How long a batch keeps taking newly arrived calls before it commits.
    static let batchWindow: Duration = .milliseconds(4)

    private let queue: WriteQueue
    private let loop: WriterLoop
    private let finished = DispatchSemaphore(value: 0)
    /// The writer thread, compared by identity only (so `nonisolated(unsafe)` is safe): closing the
    /// store from it must not wait for itself.
    nonisolated(unsafe) private let thread: Thread

    /// Starts the writer thread, which takes over `connection` (configured and migrated).
    /// `committed` runs after every successful commit that changed a row, told whether every write
    /// in it was quiet; `metrics`, if any, counts and times the commits.
    init(connection: Connection, metrics: StoreMetrics? = nil, committed: @escaping @Sendable (_ quiet: Bool) -> Void) {
        let queue = WriteQueue()
        self.queue = queue
        let loop = WriterLoop(connection: connection, queue: queue, metrics: metrics, committed: committed)
        self.loop = loop
        let finished = finished
        let thread = Thread {
            loop.run()
            finished.signal()
        }
        thread.name = "BackgroundCopy.Writer"
        self.thread = thread
        thread.start()
    }

    /// Lets queued calls finish, then stops the thread and closes the connection.
    func close() {
        queue.stop()
        if Thread.current !== thread { finished.wait() }
    }

    /// Runs `body` in the next batch and blocks until that batch has committed.
    func write<T: Sendable>(quiet: Bool = false, _ body: (Connection) throws(QueueError) -> T) throws(QueueError) -> T {
        let result = withoutActuallyEscaping(body) { escapable -> Result<T, QueueError> in
            let done = DispatchSemaphore(value: 0)
            let slot = ResultSlot<T>()
            let request = WriteRequest(escapable, quiet: quiet) { result in
                slot.value = result
                done.signal()
            }
            if queue.lead() {
                loop.runBatch([request])
                queue.batchEnded()
            } else {
                queue.enqueue(request)
            }
            done.wait()
            return slot.value ?? .failure(QueueError(.storage, "the writer stopped"))
        }
        return try result.get()
    }

    /// Runs `body` in the next batch, suspending (not blocking) until that batch has committed.
    func write<T: Sendable>(quiet: Bool = false, _ body: @escaping @Sendable (Connection) throws(QueueError) -> T) async throws(QueueError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, QueueError>, Never>) in
            queue.enqueue(WriteRequest(body, quiet: quiet) { continuation.resume(returning: $0) })
        }
        return try result.get()
    }
}

/// Where a blocking caller's result waits for it; written once by the writer before the caller's
/// semaphore is signalled, read once after (the semaphore orders the two).
private final class ResultSlot<T>: @unchecked Sendable {
    var value: Result<T, QueueError>?
}

/// The calls waiting for the writer, who is running a batch, and the flag that stops the writer.
final class WriteQueue: @unchecked Sendable {
    // `@unchecked Sendable`: `pending`, `running` and `stopping` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var pending: [any WriteWork] = []
    private var head = 0
    /// A batch is running (on the writer thread or a leading caller's): the connection is taken.
    private var running = false
    private var stopping = false

    /// Takes the connection for a blocking caller if nobody runs a batch and nobody waits.
    func lead() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !running, !stopping, head == pending.count else { return false }
        running = true
        return true
    }

    /// Gives the connection back after a batch; wakes the writer thread for calls left waiting.
    func batchEnded() {
        condition.lock()
        running = false
        // Only a waiting call, or a stop, needs the writer thread awake.
        if head < pending.count || stopping { condition.broadcast() }
        condition.unlock()
    }

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

    /// Waits for work and the connection; `nil` once stopped and drained.
    func next(upTo limit: Int) -> [any WriteWork]? {
        condition.lock()
        defer { condition.unlock() }
        while (head == pending.count || running) && !(stopping && !running) { condition.wait() }
        if head == pending.count { return nil }
        running = true
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
