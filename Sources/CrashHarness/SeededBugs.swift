import BackgroundCopy

/// The library's seeded bugs (debug builds, `BGCOPY_MUTANT`), each with the workload whose
/// power-loss sweep must catch it.
public enum SeededBugs {
    /// Every seeded bug's name and the workload that exercises it.
    public static var all: [(name: String, workload: String)] {
        Mutant.allCases.map { mutant in
            (mutant.rawValue, mutant == .unlinkBeforeCancelCommit ? Workload.cancelMix.name : Workload.basic.name)
        }
    }
}
