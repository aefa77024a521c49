import BackgroundCopy

/// A canonical sequence of queue calls run against the simulator, acknowledging every call that
/// returned success. Its calls are deterministic, so the same durability points come in the
/// same order each run and a trial can crash at any one of them.
public struct Workload: Sendable {
    /// The name used on the command line and in reports.
    public let name: String
    let body: @Sendable (WorkloadContext) async throws -> Void

    /// Every canonical workload, in the order the harness runs them.
    public static let all: [Workload] = [
        basic, multiFile, suspendResume, cancelMix, cancelWhileFinalizing, sourceChanged, diskFull, interleaved,
        recoveryInterrupted,
    ]

    /// The workloads of the kill tier: every canonical one, and ``http``.
    public static let killed: [Workload] = all + [http]

    /// The workload called `name`.
    public static func named(_ name: String) -> Workload? {
        killed.first { $0.name == name }
    }
}
