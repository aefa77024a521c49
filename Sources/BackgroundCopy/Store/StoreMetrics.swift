import CoreMetrics

/// The writer's metrics: every `COMMIT` of a batch, how long it took, and how many calls it held.
///
/// Resolved once when the store opens; `nil` (see ``init(factory:durability:)``) when the host
/// bootstrapped no metrics backend, so the writer then reads no clock for them.
struct StoreMetrics: Sendable {
    /// `bgcopy_commits_total{durability, outcome="committed"}`.
    let committed: Counter
    /// `bgcopy_commits_total{durability, outcome="failed"}`: a `COMMIT` that failed every call in its batch.
    let failed: Counter
    /// `bgcopy_commit_duration_seconds{durability}`: the `COMMIT` statement alone (its WAL fsync).
    let duration: Timer
    /// `bgcopy_commit_calls{durability}`: API calls in one committed batch (group commit at work).
    let calls: Recorder

    /// The writer's metrics from `factory`, or `nil` for swift-metrics' no-op handler.
    init?(factory: any MetricsFactory, durability: QueueManager.Durability) {
        guard !(factory is NOOPMetricsHandler) else { return nil }
        let mode: (String, String) = ("durability", durability == .full ? "full" : "relaxed")
        committed = Counter(label: "bgcopy_commits_total", dimensions: [mode, ("outcome", "committed")], factory: factory)
        failed = Counter(label: "bgcopy_commits_total", dimensions: [mode, ("outcome", "failed")], factory: factory)
        duration = Timer(label: "bgcopy_commit_duration_seconds", dimensions: [mode], factory: factory)
        calls = Recorder(label: "bgcopy_commit_calls", dimensions: [mode], aggregate: true, factory: factory)
    }

    /// A batch of `calls` calls committed; its `COMMIT` took `duration`.
    func recordCommit(calls count: Int, duration elapsed: Duration) {
        committed.increment()
        duration.recordNanoseconds(elapsed.nanoseconds)
        calls.record(count)
    }

    /// A batch's `COMMIT` failed.
    func recordFailedCommit() {
        failed.increment()
    }
}
