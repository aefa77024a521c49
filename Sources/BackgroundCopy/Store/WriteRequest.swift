/// One caller's write, queued for the ``Writer``: its body, and where its outcome goes.
///
/// The writer runs ``perform(_:)`` inside the call's own savepoint, then ``finish(_:)`` once the
/// batch holding it has committed (or failed). A caller learns its outcome only from `finish`, so it
/// never returns before the commit holding its change is durable.
protocol WriteWork: AnyObject, Sendable {
    /// The engine's own step of a transfer: its commit does not wake the engine (``CommitNotifier``).
    var quiet: Bool { get }
    /// Runs the body on the writer's connection; `false` if it threw (the error is kept for `finish`).
    func perform(_ db: Connection) -> Bool
    /// Delivers the outcome: the body's error if it threw, else `commitError` if the batch failed,
    /// else the body's value. Called exactly once.
    func finish(_ commitError: QueueError?)
}

/// A ``WriteWork`` for a body returning `T`, delivered through `deliver` (a semaphore for a
/// blocking caller, a continuation for an async one).
///
/// `@unchecked Sendable`: `body` and `outcome` are touched only by the writer thread, between the
/// request being queued and `finish`; the caller reads nothing of the request, it only receives the
/// result that `deliver` hands over, and `deliver` is called once, after the writer's last access.
final class WriteRequest<T: Sendable>: WriteWork, @unchecked Sendable {
    private var body: ((Connection) throws(QueueError) -> T)?
    private var outcome: Result<T, QueueError>?
    private let deliver: @Sendable (Result<T, QueueError>) -> Void
    let quiet: Bool

    init(
        _ body: @escaping (Connection) throws(QueueError) -> T, quiet: Bool = false,
        deliver: @escaping @Sendable (Result<T, QueueError>) -> Void
    ) {
        self.body = body
        self.quiet = quiet
        self.deliver = deliver
    }

    func perform(_ db: Connection) -> Bool {
        // The body is dropped as soon as it has run: a blocking caller lends it without letting it
        // escape, so no reference may outlive this call.
        guard let body = body.take() else { return false }
        do throws(QueueError) {
            outcome = .success(try body(db))
            return true
        } catch {
            outcome = .failure(error)
            return false
        }
    }

    func finish(_ commitError: QueueError?) {
        let result: Result<T, QueueError>
        switch outcome {
        case .failure(let error)?: result = .failure(error)
        case .success(let value)? where commitError == nil: result = .success(value)
        default: result = .failure(commitError ?? QueueError(.storage, "the write was never run"))
        }
        outcome = nil
        // A call that never ran (its batch failed to begin) still holds its body: drop it before the
        // caller resumes, since a blocking caller's body must not outlive its call.
        body = nil
        deliver(result)
    }
}
