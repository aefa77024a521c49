import CoreMetrics

/// How one attempt at a file ended, as the engine's metrics and spans name it.
enum TransferOutcome: String, Sendable, CaseIterable {
    /// Renamed into place and committed `complete`.
    case completed
    /// Failed for good: the file and its group are in error.
    case failed
    /// Failed transiently (or the database did): the file waits for a retry.
    case retry
    /// Suspended, cancelled, pre-empted or the engine stopped: the file goes back to the queue.
    case stopped
}

/// The transfer engine's metrics (swift-metrics), every handle resolved once per engine run, so a
/// transfer never builds a label or looks a metric up. `nil` in ``EngineObservability`` when the
/// host bootstrapped no metrics backend.
///
/// Dimensions stay few and bounded: never a group ID, a URL or a path.
struct EngineMetrics: Sendable {
    /// `bgcopy_files_completed_total`.
    let completed: Counter
    /// `bgcopy_files_failed_total{reason}`, by ``FailureReason``.
    private let failed: [FailureReason: Counter]
    /// `bgcopy_retries_total{cause}`: attempts that end waiting for a retry, by ``RetryCause``.
    private let retries: [RetryCause: Counter]
    /// `bgcopy_bytes_transferred_total`: bytes received and written to temp files (re-fetched ones too).
    let bytes: Counter
    /// `bgcopy_files_in_flight`: files a worker is transferring now.
    let inFlight: Meter
    /// `bgcopy_groups{state}`: live groups by state, sampled (see ``TransferEngine``).
    private let groups: [GroupState: Meter]
    /// `bgcopy_time_to_first_byte_seconds`: from a worker's start to the first byte it receives.
    let timeToFirstByte: Timer
    /// `bgcopy_file_transfer_duration_seconds{outcome}`: one attempt at a file, start to end.
    private let durations: [TransferOutcome: Timer]

    /// What a file failed of, for the `reason` dimension.
    enum FailureReason: String, Sendable, CaseIterable {
        /// The source: an HTTP status, a network or transport failure that no retry cured.
        case transfer
        /// The bytes did not match the expected SHA-256.
        case validation
        /// The local file system (no space, read-only, a symbolic link, an I/O error).
        case fileSystem = "file_system"
        /// Anything else.
        case other
    }

    /// Why an attempt waits for a retry, for the `cause` dimension.
    enum RetryCause: String, Sendable, CaseIterable {
        /// The transfer failed transiently.
        case transfer
        /// The database was busy or full.
        case storage
    }

    /// The engine's metrics from `factory`, or `nil` for swift-metrics' no-op handler.
    init?(factory: any MetricsFactory) {
        guard !(factory is NOOPMetricsHandler) else { return nil }
        completed = Counter(label: "bgcopy_files_completed_total", factory: factory)
        failed = Self.table(FailureReason.allCases) { Counter(label: "bgcopy_files_failed_total", dimensions: [("reason", $0.rawValue)], factory: factory) }
        retries = Self.table(RetryCause.allCases) { Counter(label: "bgcopy_retries_total", dimensions: [("cause", $0.rawValue)], factory: factory) }
        bytes = Counter(label: "bgcopy_bytes_transferred_total", factory: factory)
        inFlight = Meter(label: "bgcopy_files_in_flight", factory: factory)
        groups = Self.table(GroupState.allCases.filter { $0 != .cancelled }) {
            Meter(label: "bgcopy_groups", dimensions: [("state", $0.rawValue)], factory: factory)
        }
        timeToFirstByte = Timer(label: "bgcopy_time_to_first_byte_seconds", factory: factory)
        durations = Self.table(TransferOutcome.allCases) {
            Timer(label: "bgcopy_file_transfer_duration_seconds", dimensions: [("outcome", $0.rawValue)], factory: factory)
        }
    }

    /// Counts an attempt that ended with `outcome` (after failing with `error`, if it did) and took `elapsed`.
    func record(_ outcome: TransferOutcome, error: QueueError?, elapsed: Duration) {
        durations[outcome]?.recordNanoseconds(elapsed.nanoseconds)
        switch outcome {
        case .completed: completed.increment()
        case .failed: failed[FailureReason(error)]?.increment()
        case .retry: retries[error?.isPassingStorageFailure == true ? .storage : .transfer]?.increment()
        case .stopped: break
        }
    }

    /// Sets the `bgcopy_groups` gauges from a census of the groups' states.
    func record(census: [GroupState: Int]) {
        for (state, meter) in groups { meter.set(census[state] ?? 0) }
    }

    private static func table<Key: Hashable, Value>(_ keys: [Key], _ make: (Key) -> Value) -> [Key: Value] {
        Dictionary(uniqueKeysWithValues: keys.map { ($0, make($0)) })
    }
}

extension EngineMetrics.FailureReason {
    init(_ error: QueueError?) {
        if let code = error?.systemError, TransferWorker.noSpace.contains(code) {
            self = .fileSystem
            return
        }
        switch error?.code {
        case .transfer?: self = .transfer
        case .validationFailed?: self = .validation
        case .fileSystem?: self = .fileSystem
        default: self = .other
        }
    }
}
