import BackgroundCopyTesting
import Foundation
import Testing
@testable import BackgroundCopy

/// The zombie-host scenario of ``PostgresFleetTests``, run with or without a seeded bug; it
/// reports what it saw rather than judging, so the mutant test can expect the opposite.
enum ZombieScenario {
    struct Outcome: Sendable {
        /// The zombie logged `lease lost` for every file it had held once it woke.
        var zombieLostItsLeases = false
        /// The files taken over from the zombie kept their rows (state, bytes, holder, token) after it woke.
        var takenOverFilesUnchanged = false
        var changes: [Int64: String] = [:]
        var exactlyOnce = false
        var identical = false
        var zombieLog = ""
    }

    static func run(mutant: String?) async throws -> Outcome {
        try await Fleet.with { fleet in
            var outcome = Outcome()
            let (group, files) = try await fleet.group("z", sizes: Array(repeating: 600_000, count: 4), trickle: 100_000)
            let zombie = try fleet.engine("zombie", lease: 2, maxConcurrent: 2, mutant: mutant)
            let started = try await eventuallyAsync(timeout: .seconds(30)) {
                let held = try await fleet.held(by: "zombie")
                return held.count == 2 && held.values.allSatisfy { $0.bytesDone > 0 }
            }
            #expect(started, "the zombie-to-be checkpointed two files")
            let lost = Set(try await fleet.held(by: "zombie").keys)
            zombie.signal(SIGSTOP)
            let heir = try fleet.engine("heir", lease: 60, maxConcurrent: 4, mutant: mutant)
            let tookOver = try await eventuallyAsync(timeout: .seconds(30)) {
                try await fleet.rows(lost).values.allSatisfy { $0.host == "heir" && $0.state == "transferring" }
            }
            #expect(tookOver, "the heir took over the zombie's files")
            heir.signal(SIGSTOP)
            let before = try await fleet.rows(lost)
            zombie.signal(SIGCONT)
            outcome.zombieLostItsLeases = await eventuallyAsync(timeout: .seconds(8)) {
                lost.allSatisfy { zombie.errors.contains("lease lost") && zombie.errors.contains("file=\($0)") }
            }
            // Past the zombie's next checkpoint (every second) too: the rows must not have moved.
            try await Task.sleep(for: .seconds(1.5))
            let after = try await fleet.rows(lost)
            for id in lost where after[id] != before[id] { outcome.changes[id] = "\(String(describing: before[id])) → \(String(describing: after[id]))" }
            outcome.takenOverFilesUnchanged = outcome.changes.isEmpty
            outcome.zombieLog = zombie.errors
            heir.signal(SIGCONT)
            guard mutant == nil else { return outcome }
            let complete = try await eventuallyAsync(timeout: .seconds(60)) { try await group.status().state == .complete }
            #expect(complete)
            let counts = try await fleet.completions()
            outcome.exactlyOnce = counts.count == files.count && counts.allSatisfy { $0 == 1 }
            outcome.identical = fleet.mismatches(files).isEmpty
            return outcome
        }
    }
}
