import BackgroundCopy
import CSQLite
import Foundation
import BackgroundCopyTesting
import PowerLossSimulator
import Synchronization

/// A fault injected into a running engine that clears while the engine keeps running: no crash,
/// no restart. Storage faults go through the power-loss simulator (its SQLite VFS and the
/// file-system seam), network faults through the loopback server.
public enum LiveFault: String, CaseIterable, Sendable {
    /// Another connection holds the database's write lock for four busy timeouts, then lets go.
    case databaseLocked = "db-locked"
    /// Database writes fail with SQLITE_FULL from the N-th on, until space comes back.
    case databaseFull = "db-full"
    /// The N-th database write or sync fails with SQLITE_IOERR, once.
    case databaseIOError = "db-ioerr"
    /// Temp-file writes fail with ENOSPC from the N-th on, until space comes back.
    case tempFull = "temp-enospc"
    /// The N-th temp-file fsync fails with EIO, once.
    case tempIOError = "temp-eio"
    /// A file's server sends the head, then nothing, once: the client's read timeout ends it.
    case stall
    /// A file's server sends its body at 128 bytes/s, half the trial's low-speed limit, once.
    case trickle
    /// A file's server closes after N KiB, then answers the resume's `Range` with the whole body.
    case truncateIgnoringRange = "truncate"
    /// A file's server closes the connection after N KiB of body, twice in a row.
    case reset

    /// Faults the engine does not yet survive, each with the issue-11 row that names the bug: the
    /// default sweep skips them (and says so); `CrashWorker live --faults NAME` still runs them.
    public static let awaitingFix: [LiveFault: String] = [:]

    /// Whether running out of space may put the group in `error` (issue 11 row 2: the engine backs
    /// off and resumes by itself, or records the error); the trial then resumes the group, as an
    /// operator would, and it must complete.
    var mayRecordError: Bool { self == .databaseFull || self == .tempFull }

    /// The N values a sweep tries: call numbers for storage faults, KiB or delays for the others.
    var sweep: [Int64] {
        switch self {
        case .databaseFull, .databaseIOError, .tempFull, .tempIOError: [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
        case .databaseLocked, .stall, .trickle, .truncateIgnoringRange, .reset: [1, 2, 3]
        }
    }

    /// The simulator's fault class and whether it lasts until healed.
    var simulated: (kind: Int32, persistent: Bool)? {
        switch self {
        case .databaseFull: (Int32(PLS_FAULT_DB_FULL), true)
        case .databaseIOError: (Int32(PLS_FAULT_DB_IOERR), false)
        case .tempFull: (Int32(PLS_FAULT_DATA_ENOSPC), true)
        case .tempIOError: (Int32(PLS_FAULT_DATA_EIO), false)
        default: nil
        }
    }
}

/// The live-fault tier: three groups (HTTP files from a loopback server and local copies) run in
/// one engine while a fault is injected and then cleared. The same engine must then complete
/// every group within ``bound`` — no engine exit, no group in `error` for a transient cause — and
/// the queue must pass I0–I10 when reopened.
public enum LiveFaultTrial {
    /// How long the engine has to complete every group once the fault is injected.
    static let bound: Duration = .seconds(20)
    /// The file every network fault hits.
    static let faultedPath = "/n0.bin"

    /// Every fault at every N of its sweep, handing each result to `report`; returns the trial count.
    @discardableResult
    public static func sweep(_ faults: [LiveFault], report: (TrialResult) -> Void) async -> Int {
        TrialRunner.prepare()
        var trials = 0
        for fault in faults {
            for at in fault.sweep {
                let result = await run(fault, at: at)
                trials += 1
                report(result)
                if !result.acted && fault.simulated != nil { break }
            }
        }
        return trials
    }

    /// One trial: `fault` at `at`.
    public static func run(_ fault: LiveFault, at: Int64) async -> TrialResult {
        let directory = TrialRunner.scratchDirectory()
        defer {
            if ProcessInfo.processInfo.environment["BGCOPY_CRASH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: directory) }
        }
        var violations: [Violation] = []
        let context = WorkloadContext(directory: directory, acks: AckLog(), simulated: true)
        context.configuration = configuration(context.configuration)
        let server: LoopbackServer
        do {
            try context.prepareDirectories()
            server = try await LoopbackServer.start()
        } catch {
            return TrialResult(
                workload: fault.rawValue, tier: .live, at: at, seed: 0, acted: false,
                violations: [Violation(invariant: "setup", detail: "\(error)")])
        }
        pls_reset("\(directory)/queue", Int32(PLS_MODE_NONE), 0, 0, 0, 0)
        var acted = false
        do {
            let manager = try setUp(context, server)
            let progress = Progress()
            let engine = Task { () async -> QueueError? in
                defer { progress.engineStopped.withLock { $0 = true } }
                do throws(QueueError) { try await manager.run() } catch { return error }
                return nil
            }
            let injection = Task {
                defer { progress.faultCleared.withLock { $0 = true } }
                return await inject(fault, at: at, context: context, server: server)
            }
            violations += await awaitCompletion(manager, fault: fault, context: context, progress: progress)
            acted = await injection.value
            pls_heal()
            engine.cancel()
            if let error = await engine.value {
                violations.append(Violation(invariant: "I11", detail: "the engine stopped with \(error.code): \(error.message)"))
            }
            try context.acknowledgeCompletions()
        } catch {
            violations.append(Violation(invariant: "setup", detail: "\(error)"))
        }
        context.close()
        pls_reset(nil, Int32(PLS_MODE_NONE), 0, 0, 0, 0)
        try? await server.shutdown()
        violations += await InvariantChecker(directory: directory, acks: context.acks).check(runToCompletion: false)
        return TrialResult(workload: fault.rawValue, tier: .live, at: at, seed: 0, acted: acted, violations: violations)
    }

    /// Short timeouts and retry delays so that a fault clears, and is recovered from, in moments;
    /// background transfers throttled so that faults land mid-file.
    static func configuration(_ base: QueueManager.Configuration) -> QueueManager.Configuration {
        var configuration = base
        configuration.checkpointInterval = .milliseconds(200)
        configuration.minimumRetryDelay = .milliseconds(50)
        configuration.retryDelayFloor = .zero
        configuration.lowSpeedLimit = 256
        configuration.lowSpeedTime = .seconds(2)
        configuration.busyTimeout = .milliseconds(100)
        configuration.connectTimeout = .seconds(2)
        configuration.readTimeout = .milliseconds(500)
        configuration.changePollInterval = .milliseconds(20)
        configuration.backgroundBytesPerSecond = 256 << 10
        configuration.reservedFreeSpace = 0
        return configuration
    }

    /// Three resumed groups: two HTTP files, an HTTP file and a local copy, two local copies.
    private static func setUp(_ context: WorkloadContext, _ server: LoopbackServer) throws -> QueueManager {
        let sizes = [
            ("n0.bin", 48 << 10), ("n1.bin", 40 << 10), ("n2.bin", 32 << 10), ("l0.bin", 24 << 10),
            ("l1.bin", 16 << 10), ("l2.bin", 20 << 10),
        ]
        var sources: [String: String] = [:]
        for (index, (name, size)) in sizes.enumerated() {
            let path = try context.source(name, size: size, seed: UInt8(70 + index))
            sources[name] = path
            if name.hasPrefix("n") { server.serve("/\(name)", bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))) }
        }
        func pairs(_ names: [String]) -> [(local: String, source: String)] { names.map { (context.local($0), sources[$0]!) } }
        let http: (String) -> String = { server.url("/\($0.split(separator: "/").last!)") }
        try context.open()
        let delay = Duration.milliseconds(100)
        let first = try context.createGroup(20, retryDelay: delay)
        try context.add(pairs(["n0.bin", "n1.bin"]), to: try first.createJob(), remote: http)
        let second = try context.createGroup(21, priority: .low, retryDelay: delay)
        try context.add(pairs(["n2.bin"]), to: try second.createJob(), remote: http)
        try context.add(pairs(["l0.bin"]), to: try second.createJob())
        let third = try context.createGroup(22, priority: .high, retryDelay: delay)
        try context.add(pairs(["l1.bin", "l2.bin"]), to: try third.createJob())
        for group in [first, second, third] { try context.resume(group) }
        return try context.queue()
    }

    /// Injects the fault and clears it; returns whether it hit the engine.
    private static func inject(_ fault: LiveFault, at: Int64, context: WorkloadContext, server: LoopbackServer) async -> Bool {
        if let (kind, persistent) = fault.simulated {
            pls_arm(Int32(PLS_MODE_FAULT), at, kind, persistent ? 1 : 0)
            let deadline = ContinuousClock.now + .seconds(3)
            while pls_faults() == 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
            if persistent { try? await Task.sleep(for: .milliseconds(300)) }
            pls_heal()
            return pls_faults() > 0
        }
        switch fault {
        case .databaseLocked:
            try? await Task.sleep(for: .milliseconds(40 * at))
            return await holdWriteLock(context.databasePath, for: context.configuration.busyTimeout * 4)
        case .stall:
            server.setFault(faultedPath, .stall, times: 1)
        case .trickle:
            server.setFault(faultedPath, .trickle(bytesPerSecond: Int(context.configuration.lowSpeedLimit / 2)), times: 1)
        case .truncateIgnoringRange:
            server.setFault(faultedPath, .closeAfter(bytes: Int(at) << 10), times: 1)
            let deadline = ContinuousClock.now + .seconds(3)
            while server.requests(faultedPath).isEmpty && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(2)) }
            server.setFault(faultedPath, .ignoreRange, times: 1)
        case .reset:
            server.setFault(faultedPath, .closeAfter(bytes: Int(at) << 10), times: 2)
        default:
            return false
        }
        return true
    }

    /// Takes the write lock with a connection of its own (`BEGIN IMMEDIATE`) and holds it.
    private static func holdWriteLock(_ path: String, for duration: Duration) async -> Bool {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            return false
        }
        defer { sqlite3_close_v2(db) }
        sqlite3_busy_timeout(db, 2000)
        guard sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK else { return false }
        try? await Task.sleep(for: duration)
        sqlite3_exec(db, "COMMIT", nil, nil, nil)
        return true
    }

    /// Set when the engine's task has returned, and when the fault has been cleared.
    private final class Progress: Sendable {
        let engineStopped = Mutex(false)
        let faultCleared = Mutex(false)
    }

    /// Waits until every group is complete, a group is in `error`, the engine stops, or ``bound``.
    private static func awaitCompletion(
        _ manager: QueueManager, fault: LiveFault, context: WorkloadContext,
        progress: Progress
    ) async -> [Violation] {
        let deadline = ContinuousClock.now + bound
        var states: [(Group, GroupStatus)] = []
        var violations: [Violation] = []
        var resumes = 0
        while ContinuousClock.now < deadline {
            do throws(QueueError) {
                var found: [(Group, GroupStatus)] = []
                for group in try await manager.groups() { found.append((group, try await group.status())) }
                states = found
            } catch let error where error.code != .storage {
                violations.append(Violation(invariant: "I12", detail: "status() during a fault threw \(error.code): \(error.message)"))
            } catch {}
            if states.count == 3 && states.allSatisfy({ $0.1.state == .complete }) { return violations }
            if let (group, status) = states.first(where: { $0.1.state == .error }), fault.mayRecordError, resumes < 3,
                let code = status.lastError?.error.code, code == .storage || code == .fileSystem
            {
                if progress.faultCleared.withLock({ $0 }) {
                    resumes += 1
                    do throws(QueueError) { try context.resume(group) } catch {}
                }
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            if let (group, status) = states.first(where: { $0.1.state == .error }) {
                let cause = status.lastError.map { "\($0.error.code): \($0.error.message)" } ?? "no error recorded"
                return violations + [Violation(invariant: "I11", detail: "group \(group.id) went to error for a transient fault (\(cause))")]
            }
            if progress.engineStopped.withLock({ $0 }) { return violations }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = states.filter { $0.1.state != .complete }.map { "\($0.0.id) \($0.1.state)" }
        return violations + [Violation(invariant: "I11", detail: "not every group completed within \(bound) of the fault: \(left.joined(separator: ", "))")]
    }
}
