import BackgroundCopyTesting
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Several engine processes (`bgcopy run --db postgres://…`) on one PostgreSQL queue, this test
/// process being the host that adds work and cancels it: the "done means" for scale-out.
@Suite("PostgreSQL: a fleet of engine processes", .serialized, .alone)
struct PostgresFleetTests {
    /// Three engines transfer 1,000 files; one is SIGKILLed mid-run with files in flight. Every file
    /// completes exactly once (one `fileComplete` event each), byte-identical, its files taken over.
    @Test(.timeLimit(.minutes(4)))
    func threeEnginesOneKilledTransferEveryFileExactlyOnce() async throws {
        try await Fleet.with { fleet in
            var files: [(remote: String, local: String)] = []
            var groups: [PostgresGroup] = []
            for tag in ["a", "b", "c", "d"] {
                // Mostly small files; every 25th a slow one, so the killed engine surely holds some mid-transfer.
                let sizes = (0..<250).map { $0 % 25 == 0 ? 300_000 : 1_000 + ($0 * 7_919) % 30_000 }
                let (group, added) = try await fleet.group(tag, sizes: sizes)
                for (index, file) in added.enumerated() where index % 25 == 0 { fleet.server.setFault(file.remote, .trickle(bytesPerSecond: 150_000)) }
                groups.append(group)
                files += added
            }
            let engines = try (0..<3).map { try fleet.engine("host\($0)", lease: 2, maxConcurrent: 6) }
            let victim = "host0"
            let heldAtKill = try await eventuallyAsync(timeout: .seconds(90)) {
                let done = try await fleet.completions().filter { $0 > 0 }.count
                let held = try await fleet.held(by: victim)
                return done >= 200 && held.values.contains { $0.state == "transferring" && $0.bytesDone > 0 }
            }
            #expect(heldAtKill, "the victim held a file mid-transfer with 200 files done")
            let orphans = try await fleet.held(by: victim)
            engines[0].signal(SIGKILL)
            let killed = await engines[0].finish()
            #expect(killed.status == 128 + SIGKILL)
            let complete = try await eventuallyAsync(timeout: .seconds(150)) {
                var states: [GroupState] = []
                for group in groups { states.append(try await group.status().state) }
                return states.allSatisfy { $0 == .complete }
            }
            let survivors = await Fleet.stop(Array(engines.dropFirst()))
            let errors = try fleet.queue.cluster.psql(
                database: fleet.queue.database,
                command: "SELECT display_name, state, last_error_message FROM groups ORDER BY id")
            let retries = survivors.flatMap { $0.stderr.split(separator: "\n") }.filter { $0.contains("retry") || $0.contains("failed") }
            #expect(complete, "every group completed: \(errors) \(retries.prefix(10))")
            let counts = try await fleet.completions()
            #expect(counts.count == 1_000)
            let wrong = counts.enumerated().filter { $0.element != 1 }
            #expect(wrong.count == 0, "one fileComplete each: \(wrong.prefix(10))")
            let mismatched = fleet.mismatches(files)
            #expect(mismatched.count == 0, "byte-identical: \(mismatched.prefix(5))")
            for (id, _) in orphans { #expect(try await fleet.queue.file(id).state == "complete", "orphaned file \(id)") }
            let takeovers = survivors.map(\.stderr).joined().components(separatedBy: "took over an expired lease").count - 1
            #expect(takeovers >= 1, "a survivor took over the killed engine's files")
            for result in survivors { #expect(result.status == 130, "\(result)") }
            let leftovers = try FileManager.default.subpathsOfDirectory(atPath: fleet.scratch.directory).filter { $0.hasSuffix(".bgcopy-part") }
            #expect(leftovers.count == 0, "no temp file left: \(leftovers.prefix(5))")
        }
    }

    /// A zombie: host A is paused (SIGSTOP) holding files; B takes them over when A's 2 s leases
    /// lapse, and is paused in turn (its own leases last 60 s). A wakes: its commits are refused
    /// (`leaseLost`), it stops those transfers, and B's files do not change. Then B finishes.
    @Test(.timeLimit(.minutes(2)))
    func aZombieHostThatWakesAfterATakeoverHasItsCommitsRefused() async throws {
        let outcome = try await ZombieScenario.run(mutant: nil)
        #expect(outcome.zombieLostItsLeases, "the zombie logged its refused commits:\n\(outcome.zombieLog)")
        #expect(outcome.takenOverFilesUnchanged, "the zombie changed the files it had lost: \(outcome.changes)")
        #expect(outcome.exactlyOnce && outcome.identical, "every file once and byte-identical")
    }

    /// The seeded bug `no-fencing` (commits ignore the token) must not get through the zombie test.
    @Test(.timeLimit(.minutes(2)))
    func theZombieTestCatchesCommitsThatIgnoreTheToken() async throws {
        let outcome = try await ZombieScenario.run(mutant: "no-fencing")
        #expect(
            !(outcome.zombieLostItsLeases && outcome.takenOverFilesUnchanged),
            "with no-fencing the zombie's commits went through unnoticed:\n\(outcome.zombieLog)")
    }

    /// A cancel from a fourth process (this one) stops the transfers of all three engines within
    /// 1 s: after that, not one more byte leaves the server. The engines learn it by polling every
    /// 200 ms (changePollInterval) which of their files are stale.
    @Test(.timeLimit(.minutes(2)))
    func aCancelFromAFourthProcessStopsAllThreeEnginesWithinOneSecond() async throws {
        try await Fleet.with { fleet in
            let (group, files) = try await fleet.group("slow", sizes: Array(repeating: 4_000_000, count: 9), trickle: 100_000)
            let engines = try (0..<3).map { try fleet.engine("host\($0)", lease: 5, maxConcurrent: 3) }
            let busy = try await eventuallyAsync(timeout: .seconds(30)) {
                var hosts = 0
                for name in ["host0", "host1", "host2"] where try await fleet.held(by: name).values.contains(where: { $0.bytesDone > 0 }) {
                    hosts += 1
                }
                return hosts == 3
            }
            #expect(busy, "all three engines were transferring")
            try await group.cancel()
            let cancelled = ContinuousClock.now
            try await Task.sleep(until: cancelled + .seconds(1))
            let served = files.map { fleet.server.bytesServed($0.remote) }.reduce(0, +)
            try await Task.sleep(until: cancelled + .seconds(2))
            let later = files.map { fleet.server.bytesServed($0.remote) }.reduce(0, +)
            #expect(later == served, "bytes still flowed more than 1 s after the cancel: \(later - served)")
            for file in try await fleet.queue.fileRows() { #expect(file.state == "discarded" && file.token == nil) }
            let results = await Fleet.stop(engines)
            for result in results { #expect(result.status == 130, "\(result)") }
        }
    }
}
