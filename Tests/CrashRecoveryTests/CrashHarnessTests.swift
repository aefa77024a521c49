import CrashHarness
import Foundation
import Synchronization
import Testing
import TestScheduling

/// The crash harness as CI runs it: every canonical workload crashed by power loss at every
/// durability point under several seeds (and two that race — four callers at once, and one group
/// of many files in flight — whose batches vary from run to run, at every point each seed's run
/// reaches), killed with SIGKILL inside its mutating calls (HTTP downloads among them) and at
/// random moments, and faulted at every N-th I/O call; after each
/// trial the queue is reopened with the real VFS and file system and checked against what was
/// acknowledged (I0–I13). Alongside, the live-fault tier injects faults that clear into a running
/// engine, which must finish every group. The library's seeded bugs must each be caught.
///
/// Replay a failing trial with the command printed beside it; run a longer soak with
/// `BGCOPY_CRASH_SEEDS=<n>` (power-loss seeds per point; a racing workload gets its share of them,
/// ``Workload/seeds(outOf:)``: an eighth for `concurrent`, a thirtieth for `batch`; 240 by default,
/// which with the fault loops and kills makes over 85,000 trials a run; 256 before the racing
/// workloads came, the 16 fewer paying for `concurrent`'s trials).
@Suite("Crash harness: power loss, kills and faults", .serialized, .alone)
struct CrashHarnessTests {
    static let seeds = Int(ProcessInfo.processInfo.environment["BGCOPY_CRASH_SEEDS"] ?? "") ?? 240
    /// Seeds of a racing workload: a seed is also a run of its own interleaving, crashed at every
    /// point that run reaches.
    static func racingSeeds(_ name: String) -> Int {
        Workload.named(name)?.seeds(outOf: seeds) ?? 1
    }
    /// Kill at every `killStride`-th mutating call (1 by default: every one).
    static let killStride = Int(ProcessInfo.processInfo.environment["BGCOPY_CRASH_KILL_STRIDE"] ?? "") ?? 1
    static let totals = Mutex((trials: 0, violations: 0, caught: 0, mutants: 0))

    /// Runs `body` for each item, two at a time (one per core of the CI machine).
    static func twoAtATime<T: Sendable, R: Sendable>(_ items: [T], _ body: @Sendable @escaping (T) async throws -> R) async throws -> [R] {
        try await withThrowingTaskGroup(of: R.self) { group in
            var results: [R] = []
            var pending = items[...]
            for _ in 0..<2 {
                if let item = pending.popFirst() { group.addTask { try await body(item) } }
            }
            while let result = try await group.next() {
                results.append(result)
                if let item = pending.popFirst() { group.addTask { try await body(item) } }
            }
            return results
        }
    }

    @Test("power loss, SIGKILL, I/O faults and live faults break no invariant, and every seeded bug is caught")
    func crashesBreakNoInvariantAndSeededBugsAreCaught() async throws {
        let started = ContinuousClock.now
        // Live trials mostly wait (throttled transfers, timeouts): they run beside the others.
        async let live = WorkerProcess.run(["live"])
        try await powerLossAndFaults()
        try await kills()
        try await seededBugs()
        let liveTrials = try await liveFaults(live)
        let totals = Self.totals.withLock { $0 }
        print(
            "crash harness: \(totals.trials) trials (live faults \(liveTrials)), \(totals.violations) violations, \(totals.caught)/\(totals.mutants) mutants caught (\(started.duration(to: .now)))"
        )
        #expect(totals.violations == 0)
        #expect(totals.caught == totals.mutants)
    }

    /// Power loss at every durability point × seeds, and fault loops of every class, per workload;
    /// a racing workload (calls from several callers at once) crashed at every point each seed's run reaches.
    func powerLossAndFaults() async throws {
        let names = try await WorkerProcess.run(["list"]).lines.map(String.init)
        let racing = try await WorkerProcess.run(["list", "--racing"]).lines.map(String.init)
        #expect(names.count >= 9)
        #expect(!racing.isEmpty)
        // Each workload's seeds in slices of at most 32, one process each, and its fault loops in one more.
        var slices: [[String]] = []
        for (name, seeds) in names.map({ ($0, Self.seeds) }) + racing.map({ ($0, Self.racingSeeds($0)) }) {
            slices.append(["sweep", "--workload", name, "--tiers", "faults"])
            for first in Swift.stride(from: 1, through: seeds, by: 32) {
                slices.append([
                    "sweep", "--workload", name, "--tiers", "power-loss", "--first-seed", "\(first)",
                    "--seeds", "\(min(32, seeds - first + 1))",
                ])
            }
        }
        let runs = try await Self.twoAtATime(slices) { try await WorkerProcess.run($0) }
        var trials = 0, acted: [String: Int] = [:], tiers: [String: Int] = [:], violations: [String] = []
        var racingActed: [String: Int] = [:], reached: [String: ClosedRange<Int>] = [:]
        for run in runs {
            #expect(run.status == 0, "a sweep ended with status \(run.status) signal \(run.signal ?? 0)")
            #expect(run.lines.contains { $0.hasPrefix("done|") }, "a sweep did not finish:\n\(run.output.suffix(2000))")
            // Every queue a trial opened is dropped by its end, and every file it opened closed:
            // descriptors left open are a leak. A sweep ends with its process's own dozen or so; a
            // leak of one descriptor per trial at one point shows as 32 more (the seeds of a slice).
            if let done = run.lines.first(where: { $0.hasPrefix("done|") })?.split(separator: "|"), done.count == 5,
                let open = Int(done[4]), let count = Int(done[2])
            {
                #expect(open < 64, "a sweep of \(done[1]) ended with \(open) descriptors open after \(count) trials: dropped queues leak them")
            }
            for line in run.lines {
                let fields = line.split(separator: "|").map(String.init)
                if fields.first == "result", fields.count == 7 {
                    trials += 1
                    tiers[fields[2] == "power-loss" ? "power loss" : "faults", default: 0] += 1
                    if fields[2] == "power-loss", racing.contains(fields[1]) {
                        racingActed["\(fields[1]) seed \(fields[4])", default: 0] += fields[5] == "1" ? 1 : 0
                    } else if fields[2] == "power-loss", fields[5] == "1" {
                        acted["\(fields[1]) point \(fields[3])", default: 0] += 1
                    }
                } else if fields.first == "violation" {
                    violations.append(String(line))
                }
            }
        }
        for violation in violations.prefix(20) { Issue.record("\(violation)") }
        let short = acted.filter { $0.value < Self.seeds }.keys.sorted()
        #expect(short.isEmpty, "points crashed fewer than \(Self.seeds) times: \(short.prefix(10))")
        #expect(!acted.isEmpty)
        // A caller's calls follow one another and six of them commit, so however the calls share
        // batches, a racing run passes at least nine commits (three before its callers start).
        let racingShort = racingActed.filter { $0.value < 9 }.keys.sorted()
        #expect(racingActed.count == racing.map(Self.racingSeeds).reduce(0, +), "racing seeds swept: \(racingActed.count)")
        #expect(racingShort.isEmpty, "racing runs crashed at fewer than 9 points: \(racingShort.prefix(10))")
        for (seed, points) in racingActed {
            let name = String(seed.prefix { $0 != " " })
            reached[name] = reached[name].map { min($0.lowerBound, points)...max($0.upperBound, points) } ?? points...points
        }
        let racingRuns = racing.map { "\($0) \(Self.racingSeeds($0)) seeds, \(reached[$0].map { "\($0.lowerBound)–\($0.upperBound)" } ?? "no") points" }
        print(
            "crash harness: power loss \(tiers["power loss"] ?? 0) trials at \(acted.count) durability points × \(Self.seeds) seeds"
                + " and racing runs crashed at each point they reach (\(racingRuns.joined(separator: "; "))),"
                + " faults \(tiers["faults"] ?? 0) trials, \(violations.count) violations")
        Self.totals.withLock {
            $0.trials += trials; $0.violations += violations.count
        }
    }

    /// SIGKILL at every mutating call of every workload (counted inside the simulator), and at a
    /// few moments chosen by a timer while the workload transfers.
    func kills() async throws {
        let names = try await WorkerProcess.run(["list", "--kill"]).lines.map(String.init)
        var plan: [(workload: String, at: Int64?, delay: Duration?)] = []
        for name in names {
            let count = try await WorkerProcess.run(["count", "--workload", name]).lines
                .first { $0.hasPrefix("count|") }?.split(separator: "|")
            let mutations = Int64(count?.last ?? "") ?? 0
            #expect(mutations > 0, "workload \(name) made no mutating call")
            let step = Self.killStride * (Workload.named(name)?.callStride ?? 1)
            for at in Swift.stride(from: Int64(1), through: mutations, by: step) { plan.append((name, at, nil)) }
            for _ in 0..<3 { plan.append((name, nil, .milliseconds(Int.random(in: 5...150)))) }
        }
        let outcomes = try await Self.twoAtATime(plan) { step -> (String, [String], Bool) in
            let directory = TrialRunner.scratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let run = try await WorkerProcess.run(
                ["kill", "--workload", step.workload, "--at", "\(step.at ?? 0)", "--dir", directory], killAfter: step.delay)
            // A run the kill did not reach (a workload may make a call or two fewer than counted)
            // must have ended normally; any other end is a crash of the worker itself.
            let killed = run.signal == SIGKILL
            #expect(killed || (run.signal == nil && run.status == 0), "\(step.workload) worker ended with status \(run.status), signal \(run.signal ?? 0)")
            let violations = await InvariantChecker(directory: directory, acks: AckLog.parse(run.output)).check(runToCompletion: true)
            let label =
                step.at.map {
                    "kill at mutating call \($0) (replay: CrashWorker kill --workload \(step.workload) --at \($0) --dir D > acks; CrashWorker check --dir D < acks)"
                } ?? "kill after \(step.delay!) (a timer: replay the nearest counted kills)"
            return ("\(step.workload) \(label)", violations.map(\.description), killed)
        }
        let violations = outcomes.flatMap { outcome in outcome.1.map { "\(outcome.0): \($0)" } }
        for violation in violations.prefix(20) { Issue.record("\(violation)") }
        let killed = outcomes.filter(\.2).count
        #expect(killed >= plan.filter { $0.at != nil }.count * 99 / 100, "most counted kills must land inside the workload")
        print("crash harness: kill \(outcomes.count) trials (\(killed) killed), \(violations.count) violations")
        Self.totals.withLock {
            $0.trials += outcomes.count; $0.violations += violations.count
        }
    }

    /// The live-fault tier's results: every trial free of violations, and most faults acted.
    func liveFaults(_ pending: WorkerRun) async throws -> Int {
        #expect(pending.status == 0, "the live-fault sweep ended with status \(pending.status) signal \(pending.signal ?? 0)")
        #expect(pending.lines.contains { $0.hasPrefix("done|live|") }, "the live-fault sweep did not finish:\n\(pending.output.suffix(2000))")
        var trials = 0, acted = 0, violations: [String] = []
        for line in pending.lines {
            let fields = line.split(separator: "|").map(String.init)
            if fields.first == "result", fields.count == 7 {
                trials += 1
                if fields[5] == "1" { acted += 1 }
            } else if fields.first == "violation" {
                violations.append(String(line))
            } else if fields.first == "skipped", fields.count == 3 {
                print("crash harness: live fault \(fields[1]) skipped until fixed: \(fields[2])")
            }
        }
        for violation in violations.prefix(20) { Issue.record("\(violation)") }
        #expect(acted >= trials / 2, "most live faults must hit the engine")
        print("crash harness: live faults \(trials) trials (\(acted) hit the engine), \(violations.count) violations")
        Self.totals.withLock {
            $0.trials += trials; $0.violations += violations.count
        }
        return trials
    }

    /// Each seeded bug, switched on in a worker, must give at least one violation.
    func seededBugs() async throws {
        let outcomes = try await Self.twoAtATime(SeededBugs.all) { bug -> (String, String?) in
            let run = try await WorkerProcess.run(
                ["sweep", "--workload", bug.workload, "--seeds", "4", "--tiers", "power-loss", "--stop-at-first"],
                environment: ["BGCOPY_MUTANT": bug.name])
            return (bug.name, run.lines.first { $0.hasPrefix("violation|") }.map(String.init))
        }
        for (name, caught) in outcomes {
            #expect(caught != nil, "seeded bug \(name) was not caught")
            print("crash harness: seeded bug \(name): \(caught.map { "caught, \($0.split(separator: "|").dropFirst(5).first ?? "")" } ?? "NOT caught")")
        }
        Self.totals.withLock {
            $0.mutants += outcomes.count
            $0.caught += outcomes.filter { $0.1 != nil }.count
        }
    }
}
