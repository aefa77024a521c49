import BackgroundCopy

/// The library's seeded bugs (debug builds, `BGCOPY_MUTANT`), each with the workload whose
/// power-loss sweep must catch it.
public enum SeededBugs {
    /// Every seeded bug of the SQLite queue and the workload that exercises it: group commit's bugs
    /// the one whose callers race, a cancel's the one that cancels mid-transfer, the shared
    /// directory fsync's the one with many files in flight, the rest the basic one. `no-fencing` is the PostgreSQL queue's: the fleet's zombie test catches it
    /// (Tests/BackgroundCopyTests/PostgresFleetTests.swift), this SQLite harness cannot.
    public static var all: [(name: String, workload: String)] {
        Mutant.allCases.filter { $0 != .noFencing }.map { mutant in
            switch mutant {
            case .ackBeforeCommit, .savepointLeak: (mutant.rawValue, Workload.concurrent.name)
            case .unlinkBeforeCancelCommit: (mutant.rawValue, Workload.cancelMix.name)
            case .sharedDirsyncSkipped: (mutant.rawValue, Workload.batch.name)
            default: (mutant.rawValue, Workload.basic.name)
            }
        }
    }
}
