import Foundation

/// A workload crashed at every durability point under several seeds (a racing workload: each
/// seed at point 1, 2, … until its run ends before the power goes out), then faulted at every
/// N-th call of each fault class (N = 1, 2, … until a run sees no fault; 1, 1 + s, 1 + 2s, … for a
/// workload whose ``Workload/callStride`` is s), as lines a driver parses.
public struct Sweep {
    public let workload: Workload
    public let seeds: UInt64
    /// The first seed (a long sweep is split over several processes by seed ranges).
    public let firstSeed: UInt64
    /// Run I11 (resume and complete on a healthy disk) after every `completeEvery`-th trial.
    public let completeEvery: Int
    /// Stop at the first trial with a violation (for mutants).
    public let stopAtFirstViolation: Bool

    public init(workload: Workload, seeds: UInt64, firstSeed: UInt64 = 1, completeEvery: Int, stopAtFirstViolation: Bool) {
        self.workload = workload
        self.seeds = seeds
        self.firstSeed = firstSeed
        self.completeEvery = completeEvery
        self.stopAtFirstViolation = stopAtFirstViolation
    }

    /// Runs the sweep, handing each result to `report` as it comes; returns the trial count.
    @discardableResult
    public func run(tiers: [Tier], report: (TrialResult) -> Void) async -> Int {
        TrialRunner.prepare()
        var trials = 0
        func record(_ result: TrialResult) -> Bool {
            trials += 1
            report(result)
            return stopAtFirstViolation && !result.violations.isEmpty
        }
        /// Trials at 1, 2, … (faults: every `callStride`-th call) until one in which the simulator did
        /// not act; `true` to stop the sweep.
        func untilQuiet(_ tier: Tier, seed: UInt64) async -> Bool {
            var at: Int64 = 1
            while true {
                let result = await TrialRunner.run(workload, tier: tier, at: at, seed: seed, complete: trials % completeEvery == 0)
                if record(result) { return true }
                if !result.acted { return false }
                at += tier == .powerLoss ? 1 : Int64(workload.callStride)
            }
        }
        if tiers.contains(.powerLoss) && workload.racing {
            for seed in firstSeed..<(firstSeed + seeds) {
                if await untilQuiet(.powerLoss, seed: seed) { return trials }
            }
        } else if tiers.contains(.powerLoss) {
            let points = await TrialRunner.points(of: workload)
            for point in Swift.stride(from: Int64(1), through: points, by: 1) {
                for seed in firstSeed..<(firstSeed + seeds) {
                    let result = await TrialRunner.run(
                        workload, tier: .powerLoss, at: point, seed: seed,
                        complete: trials % completeEvery == 0)
                    if record(result) { return trials }
                }
            }
        }
        for tier in tiers where tier != .powerLoss {
            if await untilQuiet(tier, seed: 0) { return trials }
        }
        return trials
    }

    /// Descriptors this process has open (Linux: the entries of /proc/self/fd; elsewhere 0): a
    /// sweep reports them at its end, so a queue that leaks descriptors when dropped is caught.
    public static var openDescriptors: Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    /// The line a driver reads for one result.
    public static func line(_ result: TrialResult) -> String {
        var line = "result|\(result.workload)|\(result.tier.rawValue)|\(result.at)|\(result.seed)|\(result.acted ? 1 : 0)|\(result.violations.count)"
        for violation in result.violations {
            line += "\nviolation|\(result.workload)|\(result.tier.rawValue)|\(result.at)|\(result.seed)|\(violation)|replay: \(result.replay)"
        }
        return line
    }
}
