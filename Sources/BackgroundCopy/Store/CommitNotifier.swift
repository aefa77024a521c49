import Synchronization

/// Tells in-process listeners that the writer committed, so the engine and event streams react to
/// this process's changes at once instead of at their next poll. Other processes' commits are still
/// found through `PRAGMA data_version` (``Store/changeStamp()``).
///
/// A commit of only *quiet* writes — the engine's own steps of a transfer — wakes only the listeners
/// that asked for them: the engine does not look at the queue again after each of its own commits.
final class CommitNotifier: Sendable {
    private struct Listener {
        let continuation: AsyncStream<Void>.Continuation
        let includingQuiet: Bool
    }

    private let listeners = Mutex<[Int: Listener]>([:])
    private let nextID = Atomic<Int>(0)
    private let published = Atomic<Int>(0)

    /// How many commits have been published; it only ever grows.
    var count: Int { published.load(ordering: .relaxed) }

    /// Counts a commit and wakes its listeners (called on the writer thread after each commit);
    /// `quiet` if every write in it was quiet.
    ///
    /// The listeners are yielded to outside the lock: a yield takes the waiting task's status lock,
    /// and a task being cancelled holds that lock while its stream's termination handler takes
    /// this one — yielding under the lock deadlocked the writer against a cancelled
    /// ``Store/waitForChange(since:pollInterval:)``.
    func publish(quiet: Bool) {
        published.add(1, ordering: .relaxed)
        let woken = listeners.withLock { listeners in
            listeners.values.filter { $0.includingQuiet || !quiet }.map(\.continuation)
        }
        for listener in woken { listener.yield() }
    }

    /// A stream with one element per commit and one every `interval`, coalesced while nobody is
    /// taking them: what a wait for other processes' commits, which only polling finds, iterates.
    /// Without `includingQuiet`, only commits holding at least one write that is not quiet count.
    /// It ends when its consumer stops iterating, or the store closes.
    ///
    /// One stream for both, iterated by one iterator: racing a fresh iterator of a commit stream
    /// against a sleep cancels that iterator when the sleep wins, and cancelling an `AsyncStream`'s
    /// iterator ends the stream — every wait after the first timeout then returned at once.
    func wakeups(every interval: Duration, includingQuiet: Bool = true) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = nextID.add(1, ordering: .relaxed).newValue
        listeners.withLock { $0[id] = Listener(continuation: continuation, includingQuiet: includingQuiet) }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)  // cancelled only when the stream ends; the loop checks that
                continuation.yield()
            }
        }
        continuation.onTermination = { [weak self] _ in
            ticker.cancel()
            _ = self?.listeners.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every stream (the store is closing).
    func finish() {
        let all = listeners.withLock { listeners in
            defer { listeners.removeAll() }
            return Array(listeners.values)
        }
        for listener in all { listener.continuation.finish() }
    }
}
