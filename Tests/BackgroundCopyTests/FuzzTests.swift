import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Throws random strings, URLs, paths, sizes and operation sequences at the public API.
///
/// Every call must return or throw a ``QueueError`` of a code the call may give (never `storage`,
/// never a crash); a refused input must name its value; a refused call must leave every table as it
/// was (checked on a sample); the database must pass `integrity_check`, `foreign_key_check` and the
/// schema's invariants throughout.
///
/// The seed is random per run and printed; replay one: `BGCOPY_FUZZ_SEED=<n> swift test --no-parallel
/// --filter FuzzTests`. More cases: `BGCOPY_FUZZ_CASES=<n>` (10,000 by default).
@Suite("Fuzz: random inputs and operation sequences", .alone)
struct FuzzTests {
    @Test func randomCallsEndInSuccessOrATypedErrorAndLeaveTheDatabaseSound() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed =
            try environment["BGCOPY_FUZZ_SEED"].map { try #require(UInt64($0), "BGCOPY_FUZZ_SEED: \($0)") }
            ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let cases = try environment["BGCOPY_FUZZ_CASES"].map { try #require(Int($0), "BGCOPY_FUZZ_CASES: \($0)") } ?? 10_000
        let replay = "BGCOPY_FUZZ_SEED=\(seed) BGCOPY_FUZZ_CASES=\(cases) swift test --no-parallel --filter FuzzTests"
        print("fuzz: \(cases) cases, seed \(seed)")

        let scratch = Scratch()
        for directory in ["dir/deeper", "ro"] {
            try FileManager.default.createDirectory(atPath: scratch.path(directory), withIntermediateDirectories: true)
        }
        chmod(scratch.path("ro"), 0o555)
        defer { chmod(scratch.path("ro"), 0o755) }
        try FileManager.default.createSymbolicLink(atPath: scratch.path("link"), withDestinationPath: scratch.path("dir"))
        scratch.write("plain", [1])
        var configuration = QueueManager.Configuration()
        configuration.durability = .relaxed
        let manager = try scratch.open(configuration)
        var fuzzer = Fuzzer(manager: manager, database: scratch.database, inputs: FuzzInputs(seed: seed, root: scratch.directory))

        for index in 0..<cases {
            let problems =
                try fuzzer.step(checkUnchanged: index % 25 == 0)
                + (index % 1000 == 999 ? try Fuzzer.invariants(manager: manager, database: scratch.database) : [])
            if !problems.isEmpty {
                Issue.record("case \(index) (\(fuzzer.lastOperation)): \(problems.joined(separator: "; "))\nreplay: \(replay)")
                return
            }
        }
        let problems = try Fuzzer.invariants(manager: manager, database: scratch.database)
        #expect(problems.isEmpty, "\(problems)\nreplay: \(replay)")
        let outcomes = fuzzer.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("fuzz: \(cases) cases, seed \(seed): \(outcomes)")
    }
}

/// Applies one random operation at a time and judges its outcome.
struct Fuzzer {
    let manager: QueueManager
    let database: String
    var inputs: FuzzInputs
    var groups: [Group] = []
    var jobs: [Job] = []
    /// How many calls ended in success (`ok`) or in each error code.
    var outcomes: [String: Int] = [:]
    var lastOperation = ""

    /// The error codes each operation may give; anything else (storage above all) is a failure.
    static let expected: [String: Set<QueueError.Code>] = [
        "createGroup": [.invalidArgument, .alreadyExists], "setProperties": [.invalidArgument, .notFound],
        "createJob": [.alreadyExists, .notFound], "addFiles": [.invalidArgument, .accessDenied, .notFound],
        "file(at:)": [.notFound], "group(id)": [.notFound], "resume": [.empty, .notFound], "suspend": [.notFound],
        "cancel group": [.notFound], "cancel job": [.notFound], "switchToForeground": [.notFound],
        "read group": [.notFound], "groups": [], "purgeTombstones": [],
    ]

    init(manager: QueueManager, database: String, inputs: FuzzInputs) {
        self.manager = manager
        self.database = database
        self.inputs = inputs
    }

    /// One random call; returns what was wrong with its outcome, if anything.
    mutating func step(checkUnchanged: Bool) throws -> [String] {
        let before = checkUnchanged ? try tableDigest(database) : nil
        let (name, outcome) = perform()
        lastOperation = name
        guard case .failure(let error) = outcome else {
            outcomes["ok", default: 0] += 1
            return []
        }
        outcomes[error.code.description, default: 0] += 1
        var problems: [String] = []
        if !(Self.expected[name] ?? []).contains(error.code) { problems.append("unexpected \(error)") }
        if [.invalidArgument, .accessDenied].contains(error.code), error.value == nil {
            problems.append("\(error.code) names no value: \(error.message)")
        }
        if let before, try tableDigest(database) != before { problems.append("refused call changed the database: \(error)") }
        return problems
    }

    private mutating func perform() -> (String, Result<Void, QueueError>) {
        func run(_ body: () throws(QueueError) -> Void) -> Result<Void, QueueError> {
            do throws(QueueError) {
                try body()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        let group = groups.isEmpty ? nil : inputs.pick(groups)
        let job = jobs.isEmpty ? nil : inputs.pick(jobs)
        switch inputs.rng.below(group == nil ? 1 : 16) {
        case 0:
            let id = inputs.rng.percent(20) ? group?.id : (inputs.rng.percent(50) ? GroupID() : nil)
            let properties = inputs.properties()
            return ("createGroup", run { () throws(QueueError) in groups.append(try manager.createGroup(id: id, properties: properties)) })
        case 1:
            let properties = inputs.properties()
            return ("setProperties", run { () throws(QueueError) in try group!.setProperties(properties) })
        case 2:
            let id = inputs.rng.percent(20) ? job?.id : nil
            return ("createJob", run { () throws(QueueError) in jobs.append(try group!.createJob(id: id)) })
        case 3, 4, 5:
            guard let job else { return ("createJob", run { () throws(QueueError) in jobs.append(try group!.createJob()) }) }
            let batch = (0..<inputs.pick([1, 1, 2, 4])).map { _ in inputs.spec() }
            return ("addFiles", run { () throws(QueueError) in try job.addFiles(batch) })
        case 6:
            guard let job else { return ("groups", run { () throws(QueueError) in _ = try manager.groups() }) }
            let index = inputs.pick([-1, 0, 1, 3, Int.max, Int.min, inputs.rng.below(10)])
            return ("file(at:)", run { () throws(QueueError) in _ = try job.file(at: index) })
        case 7:
            let id = inputs.rng.percent(50) ? group!.id : GroupID()
            return ("group(id)", run { () throws(QueueError) in _ = try manager.group(id) })
        case 8: return ("resume", run { () throws(QueueError) in try group!.resume() })
        case 9: return ("suspend", run { () throws(QueueError) in try group!.suspend() })
        case 10: return ("switchToForeground", run { () throws(QueueError) in try group!.switchToForeground() })
        case 11 where inputs.rng.percent(30):
            // Most cancelled groups and jobs leave the pool, so that most calls meet live ones.
            let forget = inputs.rng.percent(80)
            return (
                "cancel group",
                run { () throws(QueueError) in
                    try group!.cancel()
                    if forget { groups.removeAll { $0 == group } }
                }
            )
        case 12 where inputs.rng.percent(30) && job != nil:
            let forget = inputs.rng.percent(80)
            return (
                "cancel job",
                run { () throws(QueueError) in
                    try job!.cancel()
                    if forget { jobs.removeAll { $0 == job } }
                }
            )
        case 13:
            let date = Date(timeIntervalSinceNow: inputs.pick([-86_400, 0, 3600, -1e12, 1e12]))
            return ("purgeTombstones", run { () throws(QueueError) in _ = try manager.purgeTombstones(olderThan: date) })
        case 14: return ("groups", run { () throws(QueueError) in _ = try manager.groups() })
        default:
            return (
                "read group",
                run { () throws(QueueError) in
                    _ = try group!.status()
                    _ = try group!.progress()
                    _ = try group!.properties()
                    for job in try group!.jobs() { _ = try job.files() }
                }
            )
        }
    }

    /// What is wrong with the database as a whole: SQLite's own checks and the schema's invariants.
    static func invariants(manager: QueueManager, database: String) throws -> [String] {
        var problems: [String] = []
        let integrity = try query(database, "PRAGMA integrity_check")
        if integrity != [["ok"]] { problems.append("integrity_check: \(integrity)") }
        let foreign = try query(database, "PRAGMA foreign_key_check")
        if !foreign.isEmpty { problems.append("foreign_key_check: \(foreign)") }
        let checks: [(String, String)] = [
            (
                "a live file in a cancelled job or group",
                "SELECT count(*) FROM files f JOIN jobs j ON f.job_id = j.id JOIN groups g ON j.group_id = g.id "
                    + "WHERE (j.state = 'cancelled' OR g.state = 'cancelled') AND f.state NOT IN ('retained', 'discarded')"
            ),
            (
                "an active job in a cancelled group",
                "SELECT count(*) FROM jobs j JOIN groups g ON j.group_id = g.id WHERE g.state = 'cancelled' AND j.state <> 'cancelled'"
            ),
            (
                "file positions with a gap",
                "SELECT count(*) FROM (SELECT job_id FROM files GROUP BY job_id HAVING max(position) <> count(*) - 1)"
            ),
            (
                "a complete group with work left",
                "SELECT count(*) FROM files f JOIN jobs j ON f.job_id = j.id JOIN groups g ON j.group_id = g.id "
                    + "WHERE g.state = 'complete' AND j.state = 'active' AND f.state IN ('queued', 'transferring', 'finalizing', 'error')"
            ),
            ("a stored local path that is not absolute", "SELECT count(*) FROM files WHERE local_path NOT LIKE '/%'"),
            (
                "a stored remote with a control character",
                "SELECT count(*) FROM files WHERE remote_url GLOB '*[' || char(1, 9, 10, 13, 127) || ']*'"
            ),
        ]
        for (what, sql) in checks where try query(database, sql) != [["0"]] {
            problems.append(what)
        }
        let live = try query(database, "SELECT count(*) FROM groups WHERE state <> 'cancelled'")
        let listed = try manager.groups().count
        if live != [["\(listed)"]] { problems.append("groups() lists \(listed) groups, the table has \(live) live ones") }
        return problems
    }
}
