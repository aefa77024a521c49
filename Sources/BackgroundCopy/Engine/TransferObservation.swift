import Synchronization
import Tracing

/// What a running engine reports through: its metrics and its spans, made once per `run()`.
/// The engine carries none (`nil` in ``EngineContext``) when the host set up neither.
struct EngineObservability: Sendable {
    let metrics: EngineMetrics?
    let tracing: TransferTracing?

    /// The observability `configuration` asks for, for an engine starting now: its spans' parent is
    /// the `ServiceContext` current on the calling task (``TransferTracing``). `nil` when both the
    /// metrics factory and the tracer are swift-metrics' and swift-distributed-tracing's no-ops.
    init?(_ configuration: QueueManager.Configuration) {
        metrics = EngineMetrics(factory: configuration.metricsFactory)
        tracing = TransferTracing(tracer: configuration.tracer, parent: ServiceContext.current ?? .topLevel)
        if metrics == nil && tracing == nil { return nil }
    }

    /// Starts observing one attempt at `claim`: counts it in flight and opens its span.
    func start(_ claim: Claim, ledger: any EngineLedger) async -> TransferObservation {
        metrics?.inFlight.increment()
        var span: (any Span)?
        if let tracing {
            // Only the span needs the file's place; a database failure costs the span those attributes, nothing more.
            let placement = try? await ledger.placement(of: claim.fileRowID)  // a failed read costs the span two attributes (above)
            span = tracing.start(claim, placement: placement ?? nil)
        }
        return TransferObservation(metrics: metrics, span: span)
    }
}

/// One attempt at a file, as metrics and a span see it: started by the worker, fed by its
/// ``TransferSink`` with every buffer written, finished once with the attempt's outcome.
final class TransferObservation: Sendable {
    private let metrics: EngineMetrics?
    private let span: (any Span)?
    private let started = ContinuousClock.now
    /// Set by the first buffer written, which records the time to first byte.
    private let sawFirstByte = Atomic(false)

    fileprivate init(metrics: EngineMetrics?, span: (any Span)?) {
        self.metrics = metrics
        self.span = span
    }

    /// `count` bytes were received and written to the temp file.
    func received(_ count: Int) {
        guard let metrics else { return }
        metrics.bytes.increment(by: count)
        if !sawFirstByte.load(ordering: .relaxed), !sawFirstByte.exchange(true, ordering: .relaxed) {
            metrics.timeToFirstByte.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        }
    }

    /// The attempt ended with `outcome` (after `error`, if it failed); the file holds `bytes`, of
    /// which this attempt received `received`. Call once.
    func finish(_ outcome: TransferOutcome, error: QueueError?, bytes: UInt64, received: UInt64) {
        if let metrics {
            metrics.record(outcome, error: error, elapsed: ContinuousClock.now - started)
            metrics.inFlight.decrement()
        }
        if let span { TransferTracing.finish(span, outcome, error: error, bytes: bytes, received: received) }
    }
}
