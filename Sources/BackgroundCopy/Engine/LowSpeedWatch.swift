/// curl's `--speed-limit`/`--speed-time` for one transfer: fewer than `bytesPerSecond` on average
/// over any `period` fails the transfer transiently, so a server that trickles or stalls after its
/// head (which a read timeout never notices if a byte comes now and then) gives way to a retry,
/// and a stalled background group lets the other groups run.
struct LowSpeedWatch {
    let bytesPerSecond: UInt64
    let period: Duration

    /// The watch for a transfer, or `nil` when the limit is off (either setting zero). A throttled
    /// transfer is held to at most half its share of the throttle, so the throttle alone never
    /// trips it.
    init?(settings: QueueManager.Configuration, throttle: Throttle?) {
        guard settings.lowSpeedLimit > 0, settings.lowSpeedTime > .zero else { return nil }
        var limit = settings.lowSpeedLimit
        if let throttle {
            let share = throttle.bytesPerSecond / 2 / Double(max(1, settings.maxFilesPerGroup))
            limit = min(limit, UInt64(max(1, share)))
        }
        bytesPerSecond = limit
        period = settings.lowSpeedTime
    }

    /// Runs `fetch` while watching the bytes the sink receives; if they fall below the limit for
    /// the period, the sink is told to fail with a transient error and the fetch is cancelled.
    func run(_ sink: TransferSink, remote: String, _ fetch: @escaping @Sendable () async throws(QueueError) -> Void) async throws(QueueError) {
        let (fetched, tripped) = await withTaskGroup(of: (watch: Bool, error: QueueError?).self) { group in
            group.addTask {
                do throws(QueueError) {
                    try await fetch()
                    return (false, nil)
                } catch {
                    return (false, error)
                }
            }
            group.addTask { (true, await watch(sink, remote: remote)) }
            var fetchDone = false
            var fetched: QueueError?
            var tripped: QueueError?
            for await result in group {
                if !result.watch {
                    fetchDone = true
                    fetched = result.error
                } else if let error = result.error, !fetchDone {
                    tripped = error
                }
                group.cancelAll()
            }
            return (fetched, tripped)
        }
        if let tripped { throw tripped }
        if let fetched { throw fetched }
    }

    /// Samples the sink's count every quarter period (at most every second); returns the
    /// low-speed failure once a whole period passed below the limit, `nil` when cancelled.
    private func watch(_ sink: TransferSink, remote: String) async -> QueueError? {
        let clock = ContinuousClock()
        let tick = min(Duration.seconds(1), period / 4)
        var start = (at: clock.now, bytes: sink.received)
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)  // cancelled when the transfer ends; the watch checks that
            guard !Task.isCancelled else { return nil }
            let now = clock.now
            let elapsed = start.at.duration(to: now)
            guard elapsed >= period else { continue }
            let bytes = sink.received - start.bytes
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if Double(bytes) < Double(bytesPerSecond) * seconds {
                let failure = QueueError(
                    .transfer,
                    "\(remote.withoutQuery) sent \(bytes) bytes in \(elapsed), below the low-speed limit "
                        + "of \(bytesPerSecond) bytes/s over \(period)", value: remote, isTransient: true)
                sink.fail(failure)
                return failure
            }
            start = (now, sink.received)
        }
        return nil
    }
}
