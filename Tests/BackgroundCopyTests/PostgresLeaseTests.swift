import BackgroundCopyTesting
import Foundation
import PostgresNIO
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("PostgreSQL: claims, leases and fencing", .serialized, .alone)
struct PostgresLeaseTests {
    @Test(.timeLimit(.minutes(2)))
    func concurrentClaimersNeverClaimTheSameFile() async throws {
        try await PostgresQueue.with { queue in
            var seeded: [Int64] = []
            for group in 0..<4 { seeded += try await queue.seedGroup("g\(group)", files: 50).files }
            let ledger = queue.ledger
            // Four hosts, each on its own pooled connection, claim small batches until nothing is left.
            let claims = try await withThrowingTaskGroup(of: [LeasedClaim].self) { group in
                for host in 0..<4 {
                    group.addTask {
                        var mine: [LeasedClaim] = []
                        while true {
                            let batch = try await ledger.claim(host: "host\(host)", limit: 7, leaseDuration: .seconds(60))
                            if batch.isEmpty { return mine }
                            mine += batch
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let files = claims.map(\.claim.fileRowID)
            #expect(files.count == 200, "every file claimed once, none twice")
            #expect(Set(files) == Set(seeded))
            #expect(Set(claims.map(\.lease.token)).count == 200, "every claim has its own token")
            #expect(Set(claims.map(\.lease.host)).count > 1, "the claimers actually ran side by side")
            for claim in claims.prefix(20) {
                let row = try await queue.file(claim.claim.fileRowID)
                #expect(row == .init(state: "transferring", bytesDone: 0, host: claim.lease.host, token: claim.lease.token))
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func claimsFollowTheSchedulerOrderAndSkipGroupsThatAreNotRunnable() async throws {
        try await PostgresQueue.with { queue in
            let low = try await queue.seedGroup("low", priority: 3, files: 2)
            let suspended = try await queue.seedGroup("suspended", state: "suspended", priority: 0, files: 2)
            let high = try await queue.seedGroup("high", priority: 1, files: 2)
            let normal = try await queue.seedGroup("normal", files: 1)
            let claimed = try await queue.ledger.claim(host: "a", limit: 10, leaseDuration: .seconds(60))
            #expect(claimed.map(\.claim.fileRowID) == high.files + normal.files + low.files)
            #expect(claimed.allSatisfy { $0.takenOverFrom == nil && !$0.finalizing })
            #expect(claimed.first?.claim.tempPath.hasPrefix("/shared/high/.file0.") == true)
            for file in suspended.files { #expect(try await queue.file(file).state == "queued") }
            let states = try queue.cluster.psql(database: queue.database, command: "SELECT state FROM groups ORDER BY id")
            #expect(states.split(separator: "\n") == ["transferring", "suspended", "transferring", "transferring"])
        }
    }

    /// A suspend committed while a claim is under way wins: the claim waits for the group's row
    /// lock, sees the group suspended, and leaves its files queued.
    @Test(.timeLimit(.minutes(1)))
    func aClaimRacingASuspendOfTheGroupLeavesItsFilesQueued() async throws {
        try await PostgresQueue.with { queue in
            let seeded = try await queue.seedGroup("g", files: 3)
            let ledger = queue.ledger
            let claimed = try await queue.client.withConnection { suspender in
                try await suspender.query("BEGIN", logger: queue.store.logger)
                try await suspender.query("UPDATE groups SET state = 'suspended' WHERE id = \(seeded.group)", logger: queue.store.logger)
                let claim = Task { try await ledger.claim(host: "a", limit: 10, leaseDuration: .seconds(60)) }
                // Commit the suspend only once the claim is waiting for the group's row lock.
                var waiting = false
                for _ in 0..<500 where !waiting {
                    let rows = try await queue.client.query(
                        """
                        SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                        """)
                    for try await count in rows.decode(Int64.self) { waiting = count > 0 }
                    if !waiting { try await Task.sleep(for: .milliseconds(10)) }
                }
                #expect(waiting, "the claim waited for the suspend's lock")
                try await suspender.query("COMMIT", logger: queue.store.logger)
                return try await claim.value
            }
            #expect(claimed.isEmpty)
            for file in seeded.files { #expect(try await queue.file(file) == .init(state: "queued", bytesDone: 0, host: nil, token: nil)) }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anExpiredLeaseIsTakenOverByAnotherHostWithAHigherToken() async throws {
        try await PostgresQueue.with { queue in
            let file = try #require(try await queue.seedGroup("g", files: 1).files.first)
            let ledger = queue.ledger
            let first = try #require(try await ledger.claim(host: "a", limit: 1, leaseDuration: .milliseconds(400)).first)
            try await ledger.checkpoint(file: file, token: first.lease.token, bytesDone: 1_000, leaseDuration: .milliseconds(400))
            // While a's lease runs, nobody else gets the file.
            #expect(try await ledger.claim(host: "b", limit: 5, leaseDuration: .seconds(60)).isEmpty)
            #expect(try await ledger.takeOverExpired(host: "b", limit: 5, leaseDuration: .seconds(60)).isEmpty)
            try await Task.sleep(for: .milliseconds(600))
            let second = try #require(try await ledger.takeOverExpired(host: "b", limit: 5, leaseDuration: .seconds(60)).first)
            #expect(second.claim.fileRowID == file)
            #expect(second.lease.token > first.lease.token)
            #expect(second.takenOverFrom == "a")
            #expect(second.claim.bytesDone == 1_000, "b resumes from a's committed bytes")
            #expect(second.claim.tempPath == first.claim.tempPath)
            #expect(try await queue.file(file) == .init(state: "transferring", bytesDone: 1_000, host: "b", token: second.lease.token))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aFinalizingFileWhoseHostDiedIsTakenOverStillFinalizing() async throws {
        try await PostgresQueue.with { queue in
            let file = try #require(try await queue.seedGroup("g", files: 1).files.first)
            let ledger = queue.ledger
            let first = try #require(try await ledger.claim(host: "a", limit: 1, leaseDuration: .seconds(60)).first)
            try await ledger.beginFinalizing(file: file, token: first.lease.token, bytesTotal: 4_096, leaseDuration: .milliseconds(200))
            try await Task.sleep(for: .milliseconds(400))
            let second = try #require(try await ledger.claim(host: "b", limit: 1, leaseDuration: .seconds(60)).first)
            #expect(second.finalizing, "b must finish the rename, not transfer again")
            #expect(second.claim.bytesDone == 4_096)
            #expect(try await queue.file(file) == .init(state: "finalizing", bytesDone: 4_096, host: "b", token: second.lease.token))
            try await ledger.complete(file: file, token: second.lease.token)
            #expect(try await queue.file(file).state == "complete")
        }
    }

    /// The zombie: a host pauses past its lease, another takes the file over, and the first wakes
    /// up and tries to go on. Every one of its commits is refused and changes nothing.
    @Test(.timeLimit(.minutes(1)))
    func aStaleTokensCheckpointRenewFinalizeAndCompleteAreRefusedAndChangeNothing() async throws {
        try await PostgresQueue.with { queue in
            let file = try #require(try await queue.seedGroup("g", files: 1).files.first)
            let ledger = queue.ledger
            let zombie = try #require(try await ledger.claim(host: "zombie", limit: 1, leaseDuration: .milliseconds(200)).first)
            try await Task.sleep(for: .milliseconds(400))
            let heir = try #require(try await ledger.claim(host: "heir", limit: 1, leaseDuration: .seconds(60)).first)
            #expect(heir.takenOverFrom == "zombie")
            try await ledger.checkpoint(file: file, token: heir.lease.token, bytesDone: 500, leaseDuration: .seconds(60))
            let before = try await queue.file(file)
            let eventsBefore = try await queue.eventKinds()

            let stale = zombie.lease.token
            let attempts: [(String, @Sendable () async throws(QueueError) -> Void)] = [
                (
                    "checkpoint",
                    { () async throws(QueueError) in
                        try await ledger.checkpoint(file: file, token: stale, bytesDone: 9_000, leaseDuration: .seconds(60))
                    }
                ),
                ("renew", { () async throws(QueueError) in _ = try await ledger.renew(file: file, token: stale, leaseDuration: .seconds(60)) }),
                (
                    "beginFinalizing",
                    { () async throws(QueueError) in
                        try await ledger.beginFinalizing(file: file, token: stale, bytesTotal: 9_000, leaseDuration: .seconds(60))
                    }
                ),
                ("complete", { () async throws(QueueError) in try await ledger.complete(file: file, token: stale) }),
            ]
            for (step, attempt) in attempts {
                do throws(QueueError) {
                    try await attempt()
                    Issue.record("\(step) with a stale token was committed")
                } catch {
                    #expect(error.code == .leaseLost, "\(step)")
                    #expect(error.message.contains("held by heir"), "\(step): \(error.message)")
                }
            }
            #expect(try await queue.file(file) == before)
            #expect(try await queue.eventKinds() == eventsBefore)

            // The heir's own commits go through, and the file completes once.
            try await ledger.beginFinalizing(file: file, token: heir.lease.token, bytesTotal: 1_000, leaseDuration: .seconds(60))
            try await ledger.complete(file: file, token: heir.lease.token)
            #expect(try await queue.file(file) == .init(state: "complete", bytesDone: 1_000, host: nil, token: nil))
            #expect(try await queue.eventKinds().filter { $0 != "progress" } == ["fileComplete", "jobComplete", "groupComplete"])
            do throws(QueueError) {
                try await ledger.complete(file: file, token: heir.lease.token)
                Issue.record("a completed file completed twice")
            } catch {
                #expect(error.code == .leaseLost)
            }
        }
    }
}

extension PostgresQueue {
    var ledger: PostgresLeaseLedger { PostgresLeaseLedger(store: store) }
}
