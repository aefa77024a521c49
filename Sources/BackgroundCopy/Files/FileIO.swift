import Dispatch

/// Where the engine's blocking file-system calls run: open, create, fsync, rename, directory fsync,
/// hashing. A running engine sends them to a dispatch queue of their own, so an fsync never holds
/// one of the cooperative pool's few threads (which the HTTP streams and every other task need),
/// and the fsyncs of several files in flight overlap. A worker driven directly, outside an
/// engine, runs them inline.
///
/// Each worker still makes its calls one after another, so a file's own durable steps keep their
/// order (DESIGN.md, Durability).
struct FileIO: Sendable {
    private let queue: DispatchQueue?

    /// Calls run on the caller's thread.
    static let inline = FileIO(queue: nil)

    /// The engine's file calls, on a concurrent queue (as the store's reads are).
    static let threads = FileIO(queue: DispatchQueue(label: "BackgroundCopy.FileIO", attributes: .concurrent))

    private init(queue: DispatchQueue?) {
        self.queue = queue
    }

    /// Runs `body` off the caller's thread and suspends until it returns.
    /// - Throws: what `body` throws.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(QueueError) -> T) async throws(QueueError) -> T {
        guard let queue else { return try body() }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, QueueError>, Never>) in
            queue.async { continuation.resume(returning: Result { () throws(QueueError) -> T in try body() }) }
        }
        return try result.get()
    }
}
