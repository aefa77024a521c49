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
    /// The share of the harness's power-loss seeds this racing workload gets: one in `seedDivisor`
    /// (at least one). Each of its seeds is crashed at every point its run reaches, so a workload
    /// with many points takes fewer seeds.
    public let seedDivisor: Int
    /// The step between the call numbers its fault sweeps and kills try (1: every call): a workload
    /// of many files makes too many calls to fault or kill at each one within the CI budget.
    public let callStride: Int
    let body: @Sendable (WorkloadContext) async throws -> Void

    init(
        name: String, racing: Bool = false, seedDivisor: Int = 1, callStride: Int = 1,
        body: @escaping @Sendable (WorkloadContext) async throws -> Void
    ) {
        self.name = name
        self.racing = racing
        self.seedDivisor = seedDivisor
        self.callStride = callStride
        self.body = body
    }

    /// How many power-loss seeds it gets when each canonical workload gets `canonical`.
    public func seeds(outOf canonical: Int) -> Int {
        max(1, canonical / seedDivisor)
    }

    /// Every canonical workload, in the order the harness runs them.
    public static let all: [Workload] = [
        basic, multiFile, suspendResume, cancelMix, cancelWhileFinalizing, sourceChanged, diskFull, interleaved,
        recoveryInterrupted,
    ]

    /// The workloads whose callers race.
    public static let racing: [Workload] = [concurrent, batch]

    /// The workloads of the kill tier: every canonical one, ``http``, and the racing ones.
    public static let killed: [Workload] = all + [http] + racing

    /// The workload called `name`.
    public static func named(_ name: String) -> Workload? {
        killed.first { $0.name == name }
    }
}
