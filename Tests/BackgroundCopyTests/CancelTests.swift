import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Cancel: retained, discarded, tombstone, one transaction", .alongside)
struct CancelTests {
    /// 1 KiB of bytes that differ per file.
    static func content(_ seed: Int) -> [UInt8] { (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) } }

    /// Claims the group's next file (two may be in flight) and leaves half of it in a real temp file.
    static func startPartial(_ manager: QueueManager, seed: Int) throws -> Claim {
        let ledger = TransferLedger(core: manager.core)
        let claim = try #require(try ledger.claimNextFile(filesPerGroup: 2))
        let half = Array(content(seed).prefix(512))
        #expect(FileManager.default.createFile(atPath: claim.tempPath, contents: Data(half)))
        #expect(try ledger.checkpoint(claim.fileRowID, bytesDone: 512, bytesTotal: 1024, validator: nil))
        return claim
    }

    @Test func cancelKeepsCompleteFilesDiscardsPartialOnesAndLeavesATombstone() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "seed"))
        try group.createJob().addFiles(scratch.specs(6))
        try group.resume()
        for index in 0..<3 { try #require(try transferNextFile(manager, content: Self.content(index)) != nil) }
        let partials = try [Self.startPartial(manager, seed: 3), Self.startPartial(manager, seed: 4)]
        let completeBefore = try (0..<3).map { try Data(contentsOf: URL(fileURLWithPath: scratch.path("file\($0)"))) }
        let modified = try (0..<3).map { try FileManager.default.attributesOfItem(atPath: scratch.path("file\($0)"))[.modificationDate] as? Date }
        #expect(partials.allSatisfy { FileManager.default.fileExists(atPath: $0.tempPath) })

        try group.cancel()

        for index in 0..<3 {
            let path = scratch.path("file\(index)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == completeBefore[index])
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == modified[index])
        }
        for partial in partials { #expect(!FileManager.default.fileExists(atPath: partial.tempPath)) }
        for index in 3..<6 { #expect(!FileManager.default.fileExists(atPath: scratch.path("file\(index)"))) }
        let states = try query(scratch.database, "SELECT state FROM files ORDER BY position").map { $0[0] }
        #expect(states == ["retained", "retained", "retained", "discarded", "discarded", "discarded"])

        #expect(throws: QueueError.self) { try manager.group(group.id) }
        #expect(try manager.groups().isEmpty)
        let again = try #require(throws: QueueError.self) {
            try manager.createGroup(id: group.id, properties: GroupProperties(displayName: "again"))
        }
        #expect(again.code == .alreadyExists)
        let events = try query(scratch.database, "SELECT detail FROM events WHERE kind = 'cancelled'")
        #expect(events == [["retained 3, discarded 3"]])
    }

    @Test func cancelledGroupHandlesThrowNotFoundForEveryCall() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "gone"))
        let job = try group.createJob()
        try job.addFiles(scratch.specs(1))
        try group.cancel()
        let calls: [(String, () throws -> Void)] = [
            ("cancel", { try group.cancel() }), ("suspend", { try group.suspend() }), ("resume", { try group.resume() }),
            ("status", { _ = try group.status() }), ("progress", { _ = try group.progress() }),
            ("properties", { _ = try group.properties() }), ("createJob", { try group.createJob() }),
            ("jobs", { _ = try group.jobs() }), ("job.fileCount", { _ = try job.fileCount() }),
            ("job.addFiles", { try job.addFiles(scratch.specs(1, prefix: "more")) }), ("job.cancel", { try job.cancel() }),
        ]
        for (name, call) in calls {
            let error = try #require(throws: QueueError.self, "\(name)") { try call() }
            #expect(error.code == .notFound, "\(name)")
        }
    }

    @Test func cancelWhileFinalizingRetainsTheVerifiedFileAtItsLocalPath() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "finalizing"))
        try group.createJob().addFiles(scratch.specs(1))
        try group.resume()
        let ledger = TransferLedger(core: manager.core)
        let claim = try #require(try ledger.claimNextFile())
        #expect(FileManager.default.createFile(atPath: claim.tempPath, contents: Data(Self.content(9))))
        #expect(try ledger.beginFinalizing(claim.fileRowID, bytesTotal: 1024))

        try group.cancel()

        #expect(try Data(contentsOf: URL(fileURLWithPath: claim.local)) == Data(Self.content(9)))
        #expect(!FileManager.default.fileExists(atPath: claim.tempPath))
        #expect(try query(scratch.database, "SELECT state FROM files") == [["retained"]])
    }

    @Test func engineStepsAfterACancelAreRefusedSoTheTransferStops() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "racing"))
        try group.createJob().addFiles(scratch.specs(1))
        try group.resume()
        let ledger = TransferLedger(core: manager.core)
        let claim = try #require(try ledger.claimNextFile())
        try group.cancel()
        #expect(try !ledger.checkpoint(claim.fileRowID, bytesDone: 10, bytesTotal: 20, validator: nil))
        #expect(try !ledger.beginFinalizing(claim.fileRowID, bytesTotal: 20))
        #expect(try !ledger.fail(claim.fileRowID, error: QueueError(.transfer, "late"), retries: 0))
        #expect(try query(scratch.database, "SELECT state, bytes_done FROM files") == [["discarded", "0"]])
    }

    @Test func jobCancelRetainsAndDiscardsOnlyThatJobsFiles() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "two jobs"))
        let first = try group.createJob()
        try first.addFiles(scratch.specs(2, prefix: "a"))
        let second = try group.createJob()
        try second.addFiles(scratch.specs(2, prefix: "b"))
        try group.resume()
        try transferNextFile(manager, content: Self.content(1))
        let partial = try #require(try transferNextFile(manager, content: Self.content(2), partial: true))

        try first.cancel()

        #expect(FileManager.default.fileExists(atPath: scratch.path("a0")))
        #expect(!FileManager.default.fileExists(atPath: partial.tempPath))
        #expect(try group.jobs().map(\.id) == [second.id])
        #expect(try second.files().map(\.state) == [.queued, .queued])
        #expect(try group.status().state == .transferring)
        #expect(try query(scratch.database, "SELECT count(*) FROM events WHERE kind = 'jobCancelled'") == [["1"]])
        #expect(
            try query(scratch.database, "SELECT local_path, state FROM files WHERE state IN ('retained', 'discarded') ORDER BY position")
                == [[scratch.path("a0"), "retained"], [scratch.path("a1"), "discarded"]])
    }

    @Test func localPathOfARetainedFileCanBeQueuedAgain() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "first"))
        try group.createJob().addFiles(scratch.specs(1))
        try group.cancel()
        let next = try manager.createGroup(properties: GroupProperties(displayName: "second")).createJob()
        try next.addFiles(scratch.specs(1))
        #expect(try next.fileCount() == 1)
    }
}
