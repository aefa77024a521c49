import Synchronization

/// A call handed to another thread (a reader's queue, a file thread), dropped the moment it has
/// run — before the waiting caller is resumed.
///
/// A thread pool or dispatch queue keeps its work item, and so everything the call captured,
/// until a moment after the caller resumed. Were that the last reference to a queue's store, the
/// store would close on that thread, after its owner had already dropped it: its last checkpoint
/// would land after the owner moved on (the crash harness saw that as runs that lost their final
/// syncs, and as a sync after the simulator was reset). A handoff gives the call up as it runs.
final class Handoff<T: Sendable>: Sendable {
    private let call: Mutex<(@Sendable () -> T)?>

    init(_ call: @escaping @Sendable () -> T) {
        self.call = Mutex(call)
    }

    /// Runs the call (once; it is released before this returns).
    func run() -> T {
        guard let call = call.withLock({ $0.take() }) else { preconditionFailure("a handoff runs once") }
        return call()
    }
}
