import CrashHarness
import Foundation

/// The crash harness's worker: runs workloads under the power-loss simulator and checks the
/// invariants. The CrashRecoveryTests drive it; run it by hand for a longer soak.
///
///     CrashWorker sweep --workload NAME [--seeds N] [--first-seed S] [--tiers power-loss,faults] [--complete-every K] [--stop-at-first]
///     CrashWorker trial --tier TIER --workload NAME --at N --seed S
///     CrashWorker count --workload NAME
///     CrashWorker kill --workload NAME --at N --dir DIR
///     CrashWorker live [--faults NAME,...]
///     CrashWorker check --dir DIR < acknowledgements
///     CrashWorker list [--kill | --racing]
///
/// BGCOPY_MUTANT=<name> (debug builds) switches on one of the library's seeded bugs.

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func usage(_ message: String) -> Never {
    FileHandle.standardError.write(Data("CrashWorker: \(message)\n".utf8))
    exit(2)
}

func workload(_ arguments: [String]) -> Workload {
    guard let name = option("--workload", in: arguments) else { usage("--workload is required") }
    guard let workload = Workload.named(name) else {
        usage("no workload \(name); there are \(Workload.killed.map(\.name).joined(separator: ", "))")
    }
    return workload
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "sweep":
    let tiers = (option("--tiers", in: arguments) ?? "power-loss,faults").split(separator: ",").flatMap { name -> [Tier] in
        if name == "faults" { return Tier.faults }
        guard let tier = Tier(rawValue: String(name)), tier != .live else { usage("no sweep tier \(name) (live faults: CrashWorker live)") }
        return [tier]
    }
    let sweep = Sweep(
        workload: workload(arguments), seeds: UInt64(option("--seeds", in: arguments) ?? "8") ?? 8,
        firstSeed: UInt64(option("--first-seed", in: arguments) ?? "1") ?? 1,
        completeEvery: Int(option("--complete-every", in: arguments) ?? "10") ?? 10,
        stopAtFirstViolation: arguments.contains("--stop-at-first"))
    let started = Date()
    let trials = await sweep.run(tiers: tiers) { say(Sweep.line($0)) }
    say("done|\(sweep.workload.name)|\(trials)|\(String(format: "%.1f", Date().timeIntervalSince(started)))|\(Sweep.openDescriptors)")
case "live":
    let faults =
        option("--faults", in: arguments).map { names in
            names.split(separator: ",").map { name -> LiveFault in
                guard let fault = LiveFault(rawValue: String(name)) else { usage("no live fault \(name)") }
                return fault
            }
        } ?? LiveFault.allCases.filter { LiveFault.awaitingFix[$0] == nil }
    for (fault, bug) in LiveFault.awaitingFix.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where !faults.contains(fault) {
        say("skipped|\(fault.rawValue)|\(bug)")
    }
    let started = Date()
    let trials = await LiveFaultTrial.sweep(faults) { say(Sweep.line($0)) }
    say("done|live|\(trials)|\(String(format: "%.1f", Date().timeIntervalSince(started)))")
case "trial":
    guard let tier = option("--tier", in: arguments).flatMap(Tier.init(rawValue:)),
        let at = option("--at", in: arguments).flatMap(Int64.init)
    else { usage("trial needs --tier and --at") }
    TrialRunner.prepare()
    let result: TrialResult
    if tier == .live {
        guard let fault = option("--workload", in: arguments).flatMap(LiveFault.init(rawValue:)) else {
            usage("a live trial names its fault with --workload: \(LiveFault.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        result = await LiveFaultTrial.run(fault, at: at)
    } else {
        result = await TrialRunner.run(
            workload(arguments), tier: tier, at: at,
            seed: UInt64(option("--seed", in: arguments) ?? "0") ?? 0, complete: true)
    }
    say(Sweep.line(result))
    exit(result.violations.isEmpty ? 0 : 1)
case "count":
    TrialRunner.prepare()
    let chosen = workload(arguments)
    // A racing workload's runs differ: the fewest of four, so that kills at every call up to it land.
    var points = Int64.max, mutations = Int64.max
    for _ in 0..<(chosen.racing ? 4 : 1) {
        points = min(points, await TrialRunner.points(of: chosen))
        mutations = min(mutations, await TrialRunner.mutations(of: chosen))
    }
    say("count|\(chosen.name)|\(points)|\(mutations)")
case "kill":
    guard let at = option("--at", in: arguments).flatMap(Int64.init), let directory = option("--dir", in: arguments) else {
        usage("kill needs --at and --dir")
    }
    TrialRunner.prepare()
    await TrialRunner.runToKill(workload(arguments), directory: directory, at: at)
case "check":
    guard let directory = option("--dir", in: arguments) else { usage("check needs --dir") }
    let acks = AckLog.parse(String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self))
    let violations = await InvariantChecker(directory: directory, acks: acks).check(runToCompletion: true)
    for violation in violations { say("violation|\(violation)") }
    exit(violations.isEmpty ? 0 : 1)
case "list":
    let listed = arguments.contains("--kill") ? Workload.killed : arguments.contains("--racing") ? Workload.racing : Workload.all
    for workload in listed { say(workload.name) }
default:
    usage("expected sweep, live, trial, count, kill, check or list")
}
