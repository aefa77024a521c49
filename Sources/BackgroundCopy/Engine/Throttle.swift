import Synchronization

/// A token bucket shared by every background transfer: at most `bytesPerSecond` on average, with
/// bursts of up to one second's worth. Foreground transfers never pass through it.
final class Throttle: Sendable {
    private struct Bucket {
        var tokens: Double
        var refilled: ContinuousClock.Instant
    }

    let bytesPerSecond: Double
    private let bucket: Mutex<Bucket>

    init(bytesPerSecond: UInt64) {
        self.bytesPerSecond = Double(max(1, bytesPerSecond))
        self.bucket = Mutex(Bucket(tokens: Double(max(1, bytesPerSecond)), refilled: .now))
    }

    /// Waits until `count` bytes may pass. Throws `invalidState` if the task is cancelled meanwhile.
    func take(_ count: Int) async throws(QueueError) {
        let wait = bucket.withLock { bucket -> Duration in
            let now = ContinuousClock.now
            let elapsed = bucket.refilled.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(bytesPerSecond, bucket.tokens + seconds * bytesPerSecond)
            bucket.refilled = now
            bucket.tokens -= Double(count)
            return bucket.tokens >= 0 ? .zero : .seconds(-bucket.tokens / bytesPerSecond)
        }
        guard wait > .zero else { return }
        do {
            try await Task.sleep(for: wait)
        } catch {
            throw TransferSink.stopped
        }
    }
}
