import BackgroundCopy

/// A canonical sequence of queue calls run against the simulator, acknowledging every call that
/// returned success. Its calls are deterministic, so the same durability points come in the
/// same order each run and a trial can crash at any one of them.
public struct Workload: Sendable {
    /// The name used on the command line and in reports.
    public let name: String
    /// Whether its callers race (several make calls at once): which calls share a group-commit
    /// batch, and so how many durability points and mutating calls a run passes, varies from run
    /// to run. Its power-loss sweep crashes each seed at point 1, 2, … until a run ends first.
    public let racing: Bool
    let body: @Sendable (WorkloadContext) async throws -> Void

    init(name: String, racing: Bool = false, body: @escaping @Sendable (WorkloadContext) async throws -> Void) {
        self.name = name
        self.racing = racing
        self.body = body
    }

    /// Every canonical workload, in the order the harness runs them.
    public static let all: [Workload] = [
        basic, multiFile, suspendResume, cancelMix, cancelWhileFinalizing, sourceChanged, diskFull, interleaved,
        recoveryInterrupted,
    ]

    /// The workloads whose callers race.
    public static let racing: [Workload] = [concurrent]

    /// The workloads of the kill tier: every canonical one, ``http``, and the racing ones.
    public static let killed: [Workload] = all + [http] + racing

    /// The workload called `name`.
    public static func named(_ name: String) -> Workload? {
        killed.first { $0.name == name }
    }
}
