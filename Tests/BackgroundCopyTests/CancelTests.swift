import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Every test runs against both backends; the PostgreSQL cases start the process's throwaway
/// cluster, hence `.alone`.
@Suite("Cancel: retained, discarded, tombstone, one transaction", .alone)
struct CancelTests {
    /// 1 KiB of bytes that differ per file.
    static func content(_ seed: Int) -> [UInt8] { (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) } }

    /// Claims the group's next file (two may be in flight) and leaves half of it in a real temp file.
    static func startPartial(_ queue: any QueueUnderTest, seed: Int) async throws -> Claim {
        let claim = try #require(try await queue.ledger.claimNextFile(filesPerGroup: 2, foregroundOnly: false, alsoGroup: nil))
        let half = Array(content(seed).prefix(512))
        #expect(FileManager.default.createFile(atPath: claim.tempPath, contents: Data(half)))
        #expect(try await queue.ledger.checkpoint(claim.fileRowID, bytesDone: 512, bytesTotal: 1024, validator: nil, progressAbove: 0))
        return claim
    }

    @Test(arguments: Backend.allCases)
    func cancelKeepsCompleteFilesDiscardsPartialOnesAndLeavesATombstone(backend: Backend) async throws {
        try await backend.withQueue { queue in
            let scratch = queue.scratch
            let (group, job) = try await queue.groupWithJob("seed")
            try await job.addFiles(scratch.specs(6))
            try await group.resume()
            for index in 0..<3 { try #require(try await queue.transferNextFile(content: Self.content(index)) != nil) }
            let partials = try await [Self.startPartial(queue, seed: 3), Self.startPartial(queue, seed: 4)]
            let completeBefore = try (0..<3).map { try Data(contentsOf: URL(fileURLWithPath: scratch.path("file\($0)"))) }
            let modified = try (0..<3).map {
                try FileManager.default.attributesOfItem(atPath: scratch.path("file\($0)"))[.modificationDate] as? Date
            }
            #expect(partials.allSatisfy { FileManager.default.fileExists(atPath: $0.tempPath) })

            try await group.cancel()

            for index in 0..<3 {
                let path = scratch.path("file\(index)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == completeBefore[index])
                #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == modified[index])
            }
            for partial in partials { #expect(!FileManager.default.fileExists(atPath: partial.tempPath)) }
            for index in 3..<6 { #expect(!FileManager.default.fileExists(atPath: scratch.path("file\(index)"))) }
            let states = try await queue.rows("SELECT state FROM files ORDER BY position").map { $0[0] }
            #expect(states == ["retained", "retained", "retained", "discarded", "discarded", "discarded"])

            await #expect(throws: QueueError.self) { try await queue.group(group.id) }
            #expect(try await queue.groups().isEmpty)
            let again = try await #require(throws: QueueError.self) {
                try await queue.createGroup(id: group.id, properties: GroupProperties(displayName: "again"))
            }
            #expect(again.code == .alreadyExists)
            let events = try await queue.rows("SELECT detail FROM events WHERE kind = 'cancelled'")
            #expect(events == [["retained 3, discarded 3"]])
        }
    }

    @Test(arguments: Backend.allCases)
    func cancelledGroupHandlesThrowNotFoundForEveryCall(backend: Backend) async throws {
        try await backend.withQueue { queue in
            let scratch = queue.scratch
            let (group, job) = try await queue.groupWithJob("gone")
            try await job.addFiles(scratch.specs(1))
            try await group.cancel()
            let calls: [(String, () async throws -> Void)] = [
                ("cancel", { try await group.cancel() }), ("suspend", { try await group.suspend() }),
                ("resume", { try await group.resume() }), ("status", { _ = try await group.status() }),
                ("progress", { _ = try await group.progress() }), ("properties", { _ = try await group.properties() }),
                ("createJob", { _ = try await group.addJob() }), ("jobs", { _ = try await group.jobIDs() }),
                ("job.fileCount", { _ = try await job.fileCount() }),
                ("job.addFiles", { try await job.addFiles(scratch.specs(1, prefix: "more")) }), ("job.cancel", { try await job.cancel() }),
            ]
            for (name, call) in calls {
                let error = try await #require(throws: QueueError.self, "\(name)") { try await call() }
                #expect(error.code == .notFound, "\(name)")
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func cancelWhileFinalizingRetainsTheVerifiedFileAtItsLocalPath(backend: Backend) async throws {
        try await backend.withQueue { queue in
            let (group, job) = try await queue.groupWithJob("finalizing")
            try await job.addFiles(queue.scratch.specs(1))
            try await group.resume()
            let claim = try #require(try await queue.ledger.claimNextFile())
            #expect(FileManager.default.createFile(atPath: claim.tempPath, contents: Data(Self.content(9))))
            #expect(try await queue.ledger.beginFinalizing(claim.fileRowID, bytesTotal: 1024))

            try await group.cancel()

            #expect(try Data(contentsOf: URL(fileURLWithPath: claim.local)) == Data(Self.content(9)))
            #expect(!FileManager.default.fileExists(atPath: claim.tempPath))
            #expect(try await queue.rows("SELECT state FROM files") == [["retained"]])
        }
    }

    @Test(arguments: Backend.allCases)
    func engineStepsAfterACancelAreRefusedSoTheTransferStops(backend: Backend) async throws {
        try await backend.withQueue { queue in
            let (group, job) = try await queue.groupWithJob("racing")
            try await job.addFiles(queue.scratch.specs(1))
            try await group.resume()
            let ledger = queue.ledger
            let claim = try #require(try await ledger.claimNextFile())
            try await group.cancel()
            #expect(try await !ledger.checkpoint(claim.fileRowID, bytesDone: 10, bytesTotal: 20, validator: nil, progressAbove: 0))
            #expect(try await !ledger.beginFinalizing(claim.fileRowID, bytesTotal: 20))
            #expect(try await !ledger.fail(claim.fileRowID, error: QueueError(.transfer, "late"), retries: 0))
            #expect(try await queue.rows("SELECT state, bytes_done FROM files") == [["discarded", "0"]])
        }
    }

    @Test(arguments: Backend.allCases)
    func jobCancelRetainsAndDiscardsOnlyThatJobsFiles(backend: Backend) async throws {
        try await backend.withQueue { queue in
            let scratch = queue.scratch
            let (group, first) = try await queue.groupWithJob("two jobs")
            try await first.addFiles(scratch.specs(2, prefix: "a"))
            let second = try await group.addJob()
            try await second.addFiles(scratch.specs(2, prefix: "b"))
            try await group.resume()
            try await queue.transferNextFile(content: Self.content(1))
            let partial = try #require(try await queue.transferNextFile(content: Self.content(2), partial: true))

            try await first.cancel()

            #expect(FileManager.default.fileExists(atPath: scratch.path("a0")))
            #expect(!FileManager.default.fileExists(atPath: partial.tempPath))
            #expect(try await group.jobIDs() == [second.id])
            #expect(try await second.files().map(\.state) == [.queued, .queued])
            #expect(try await group.status().state == .transferring)
            #expect(try await queue.rows("SELECT count(*) FROM events WHERE kind = 'jobCancelled'") == [["1"]])
            #expect(
                try await queue.rows(
                    "SELECT local_path, state FROM files WHERE state IN ('retained', 'discarded') ORDER BY position")
                    == [[scratch.path("a0"), "retained"], [scratch.path("a1"), "discarded"]])
        }
    }

    @Test(arguments: Backend.allCases)
    func localPathOfARetainedFileCanBeQueuedAgain(backend: Backend) async throws {
        try await backend.withQueue { queue in
            let (group, job) = try await queue.groupWithJob("first")
            try await job.addFiles(queue.scratch.specs(1))
            try await group.cancel()
            let next = try await queue.groupWithJob("second").job
            try await next.addFiles(queue.scratch.specs(1))
            #expect(try await next.fileCount() == 1)
        }
    }
}
