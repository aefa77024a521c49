import Foundation

/// `count` threads that each make one call per round, all at once: a round ends when every
/// caller's call has returned. The threads live as long as the benchmark process.
final class CallerPool: Sendable {
    private let starts: [DispatchSemaphore]
    private let done = DispatchSemaphore(value: 0)

    init(count: Int, call: @escaping @Sendable (_ caller: Int) -> Void) {
        starts = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        for (caller, start) in starts.enumerated() {
            let done = done
            Thread {
                while true {
                    start.wait()
                    call(caller)
                    done.signal()
                }
            }.start()
        }
    }

    /// Releases every caller for one call and waits until all of them have returned.
    func round() {
        for start in starts { start.signal() }
        for _ in starts { done.wait() }
    }
}
