import BackgroundCopy
import Foundation
import PowerLossSimulator

/// One run of a workload under the simulator, and its verdict.
public struct TrialResult: Sendable {
    /// The workload, the tier and the point or call number it acted at, and the seed.
    public let workload: String
    public let tier: Tier
    public let at: Int64
    public let seed: UInt64
    /// Whether the simulator acted (the power went out, a fault was injected).
    public let acted: Bool
    public let violations: [Violation]

    /// The one command that replays this trial.
    public var replay: String {
        "swift run CrashWorker trial --tier \(tier.rawValue) --workload \(workload) --at \(at) --seed \(seed)"
    }
}

/// How a trial breaks things.
public enum Tier: String, Sendable, CaseIterable {
    /// Power lost at a durability point.
    case powerLoss = "power-loss"
    /// Database writes and syncs fail (SQLITE_IOERR), once or from then on.
    case dbIOErrorOnce = "db-ioerr", dbIOErrorPersistent = "db-ioerr-persistent"
    /// Database writes fail with SQLITE_FULL.
    case dbFullOnce = "db-full", dbFullPersistent = "db-full-persistent"
    /// Data-file fsyncs fail with EIO.
    case dataEIOOnce = "data-eio", dataEIOPersistent = "data-eio-persistent"
    /// Data-file writes fail with ENOSPC.
    case dataENOSPCOnce = "data-enospc", dataENOSPCPersistent = "data-enospc-persistent"
    /// A fault injected into a running engine and cleared (``LiveFaultTrial``; the workload names the fault).
    case live

    /// The fault tiers that stop a workload's calls (not ``live``).
    public static let faults: [Tier] = allCases.filter { $0 != .powerLoss && $0 != .live }

    var fault: (kind: Int32, persistent: Bool) {
        switch self {
        case .powerLoss, .live: (0, false)
        case .dbIOErrorOnce: (Int32(PLS_FAULT_DB_IOERR), false)
        case .dbIOErrorPersistent: (Int32(PLS_FAULT_DB_IOERR), true)
        case .dbFullOnce: (Int32(PLS_FAULT_DB_FULL), false)
        case .dbFullPersistent: (Int32(PLS_FAULT_DB_FULL), true)
        case .dataEIOOnce: (Int32(PLS_FAULT_DATA_EIO), false)
        case .dataEIOPersistent: (Int32(PLS_FAULT_DATA_EIO), true)
        case .dataENOSPCOnce: (Int32(PLS_FAULT_DATA_ENOSPC), false)
        case .dataENOSPCPersistent: (Int32(PLS_FAULT_DATA_ENOSPC), true)
        }
    }
}

/// Runs trials in this process: the simulator is reset for each, the workload runs until it ends
/// or the power goes out, the disk is rewritten as the power loss left it, and the invariants
/// are checked with the real VFS and file system.
public enum TrialRunner {
    /// Registers the simulator's VFS; call once before any trial.
    public static func prepare() {
        _ = pls_register_vfs()
    }

    /// How many durability points the workload passes when nothing goes wrong.
    public static func points(of workload: Workload) async -> Int64 {
        let directory = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let context = WorkloadContext(directory: directory, acks: AckLog(), simulated: true)
        try? context.prepareDirectories()
        pls_reset("\(directory)/queue", Int32(PLS_MODE_NONE), 0, 0, 0, 0)
        do {
            try await workload.body(context)
        } catch {
            FileHandle.standardError.write(Data("CrashWorker: workload \(workload.name) failed on a healthy disk: \(error)\n".utf8))
        }
        context.close()
        let points = pls_points()
        pls_reset(nil, Int32(PLS_MODE_NONE), 0, 0, 0, 0)
        return points
    }

    /// Runs one trial. `at` is the durability point (power loss) or the call number (faults).
    public static func run(_ workload: Workload, tier: Tier, at: Int64, seed: UInt64, complete: Bool) async -> TrialResult {
        let directory = scratchDirectory()
        defer {
            if ProcessInfo.processInfo.environment["BGCOPY_CRASH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: directory) }
        }
        let acks = AckLog()
        let context = WorkloadContext(directory: directory, acks: acks, simulated: true)
        var violations: [Violation] = []
        do {
            try context.prepareDirectories()
        } catch {
            return TrialResult(
                workload: workload.name, tier: tier, at: at, seed: seed, acted: false,
                violations: [Violation(invariant: "setup", detail: "\(error)")])
        }
        let (kind, persistent) = tier.fault
        let mode = tier == .powerLoss ? PLS_MODE_POWER_LOSS : PLS_MODE_FAULT
        pls_reset("\(directory)/queue", Int32(mode), at, seed, kind, persistent ? 1 : 0)
        do {
            try await workload.body(context)
        } catch let error as QueueError {
            let expected: Set<QueueError.Code> = [.storage, .fileSystem, .transfer]
            if tier != .powerLoss, !expected.contains(error.code) {
                violations.append(Violation(invariant: "I12", detail: "a faulted call threw \(error.code): \(error.message)"))
            }
        } catch {
            violations.append(Violation(invariant: "I12", detail: "a call threw an untyped error: \(error)"))
        }
        context.close()
        let acted = tier == .powerLoss ? pls_power_lost() != 0 : pls_faults() > 0
        if pls_power_lost() != 0, pls_materialize() != 0 {
            violations.append(Violation(invariant: "setup", detail: "the power-loss image could not be written"))
        }
        pls_reset(nil, Int32(PLS_MODE_NONE), 0, 0, 0, 0)
        violations += await InvariantChecker(directory: directory, acks: acks).check(runToCompletion: complete)
        return TrialResult(workload: workload.name, tier: tier, at: at, seed: seed, acted: acted, violations: violations)
    }

    /// Runs the workload with a SIGKILL at its `at`-th mutating call, echoing acknowledgements to
    /// standard output; returns normally only if the kill never came.
    public static func runToKill(_ workload: Workload, directory: String, at: Int64) async {
        let context = WorkloadContext(directory: directory, acks: AckLog(echo: true), simulated: true)
        try? context.prepareDirectories()
        pls_reset("\(directory)/queue", Int32(PLS_MODE_KILL), at, 0, 0, 0)
        try? await workload.body(context)
        context.close()
        pls_reset(nil, Int32(PLS_MODE_NONE), 0, 0, 0, 0)
    }

    /// How many mutating calls the workload makes when nothing goes wrong.
    public static func mutations(of workload: Workload) async -> Int64 {
        let directory = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let context = WorkloadContext(directory: directory, acks: AckLog(), simulated: true)
        try? context.prepareDirectories()
        pls_reset("\(directory)/queue", Int32(PLS_MODE_NONE), 0, 0, 0, 0)
        try? await workload.body(context)
        context.close()
        let count = pls_mutations()
        pls_reset(nil, Int32(PLS_MODE_NONE), 0, 0, 0, 0)
        return count
    }

    /// A fresh directory for one trial: under `BGCOPY_CRASH_DIR`, else `/dev/shm` where it is a
    /// writable directory (the simulator decides what is durable, so the real flushes of the
    /// checker's reopen would only cost time), else the temporary directory.
    public static func scratchDirectory() -> String {
        let memory = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : nil
        var base = ProcessInfo.processInfo.environment["BGCOPY_CRASH_DIR"] ?? memory ?? NSTemporaryDirectory()
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        let path = "\(base)/bgcopy-crash-\(UUID().uuidString.prefix(12))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
