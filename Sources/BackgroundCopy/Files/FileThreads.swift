import NIOPosix

/// The threads on which the engine's blocking file-system calls run (creating and opening temp
/// files, fsync, rename, directory fsync), so none of them blocks the cooperative thread pool
/// (DESIGN.md, Architecture) and many files' fsyncs can wait on the disk at once.
///
/// One pool serves the process, as NIO's own singletons do: it starts on first use and its
/// threads sleep while nothing is submitted. Every submitted call runs, even if the calling task
/// is cancelled meanwhile: a call that opens or renames must not be skipped half-way through a
/// durable step, and a descriptor must never be left unclosed.
enum FileThreads {
    /// How many calls may block at once. An fsync mostly waits for the disk; more threads than
    /// cores let the file system's journal commit several of them together.
    static let count = 16

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: count)
        pool.start()
        return pool
    }()

    /// Runs `body` on a file thread and suspends until it returns.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(QueueError) -> T) async throws(QueueError) -> T {
        try await run { () -> Result<T, QueueError> in Result { () throws(QueueError) -> T in try body() } }.get()
    }

    /// Runs `body`, which cannot fail, on a file thread and suspends until it returns. `body` is
    /// released before the caller resumes (``Handoff``).
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        let call = Handoff(body)
        return await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            pool.submit { _ in continuation.resume(returning: call.run()) }
        }
    }

    /// Runs `body` on a file thread; returns at once.
    static func submit(_ body: @escaping @Sendable () -> Void) {
        let call = Handoff(body)
        pool.submit { _ in call.run() }
    }
}
