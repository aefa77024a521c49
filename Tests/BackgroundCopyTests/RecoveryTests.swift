import Foundation
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The real file system, except that `unlink` and `rename` fail while `failing` is set: the seam
/// DESIGN.md names for fault injection.
final class FlakyFileSystem: PassThroughFileSystem {
    let failing = Atomic<Bool>(true)
    private let real = PosixFileSystem()

    func rename(_ from: String, to: String) throws(QueueError) {
        if failing.load(ordering: .relaxed) { throw QueueError(.fileSystem, "injected EIO", value: from, systemError: EIO) }
        try real.rename(from, to: to)
    }

    func unlink(_ path: String) throws(QueueError) {
        if failing.load(ordering: .relaxed) { throw QueueError(.fileSystem, "injected EIO", value: path, systemError: EIO) }
        try real.unlink(path)
    }
}

@Suite("Recovery on open: finishing what a cancel left behind", .alongside)
struct RecoveryTests {
    /// A queue whose group was cancelled while the file system refused the clean-up: one partial
    /// file's temp is still on disk, and one finalizing file was never renamed.
    static func interruptedCancel(_ scratch: Scratch) throws -> (partial: Claim, finalizing: Claim) {
        let flaky = FlakyFileSystem()
        let manager = try scratch.open(fileSystem: flaky)
        let group = try manager.createGroup(properties: GroupProperties(displayName: "interrupted"))
        try group.createJob().addFiles(scratch.specs(2))
        try group.resume()
        let ledger = TransferLedger(core: manager.core)
        let finalizing = try #require(try ledger.claimNextFile(filesPerGroup: 2))
        #expect(FileManager.default.createFile(atPath: finalizing.tempPath, contents: Data(repeating: 7, count: 100)))
        #expect(try ledger.beginFinalizing(finalizing.fileRowID, bytesTotal: 100))
        let partial = try #require(try ledger.claimNextFile(filesPerGroup: 2))
        #expect(FileManager.default.createFile(atPath: partial.tempPath, contents: Data(repeating: 1, count: 10)))
        try group.cancel()
        #expect(FileManager.default.fileExists(atPath: partial.tempPath))
        #expect(FileManager.default.fileExists(atPath: finalizing.tempPath))
        #expect(scratch.log.entries.filter { $0.message.description == "file clean-up deferred to the next open" }.count == 2)
        return (partial, finalizing)
    }

    @Test func openFinishesACancelsCleanUpThatFailed() throws {
        let scratch = Scratch()
        let (partial, finalizing) = try Self.interruptedCancel(scratch)

        _ = try scratch.open()

        #expect(!FileManager.default.fileExists(atPath: partial.tempPath))
        #expect(!FileManager.default.fileExists(atPath: finalizing.tempPath))
        #expect(try Data(contentsOf: URL(fileURLWithPath: finalizing.local)) == Data(repeating: 7, count: 100))
        #expect(
            try query(scratch.database, "SELECT state, temp_path FROM files ORDER BY position")
                == [["retained", "NULL"], ["discarded", "NULL"]])
    }

    @Test func recoveryRunTwiceChangesNothingTheSecondTime() throws {
        let scratch = Scratch()
        let (_, finalizing) = try Self.interruptedCancel(scratch)
        _ = try scratch.open()
        let database = try tableDigest(scratch.database)
        let listing = try FileManager.default.contentsOfDirectory(atPath: scratch.directory).filter { !$0.hasPrefix("queue.sqlite") }.sorted()
        let content = try Data(contentsOf: URL(fileURLWithPath: finalizing.local))

        _ = try scratch.open()

        #expect(try tableDigest(scratch.database) == database)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.directory).filter { !$0.hasPrefix("queue.sqlite") }.sorted() == listing)
        #expect(try Data(contentsOf: URL(fileURLWithPath: finalizing.local)) == content)
    }

    @Test func recoveryThatFailsAgainLeavesTheWorkForTheNextOpen() throws {
        let scratch = Scratch()
        let (partial, _) = try Self.interruptedCancel(scratch)
        let stillFlaky = FlakyFileSystem()
        _ = try scratch.open(fileSystem: stillFlaky)
        #expect(FileManager.default.fileExists(atPath: partial.tempPath))
        #expect(try query(scratch.database, "SELECT count(*) FROM files WHERE temp_path IS NOT NULL") == [["2"]])

        _ = try scratch.open()

        #expect(!FileManager.default.fileExists(atPath: partial.tempPath))
        #expect(try query(scratch.database, "SELECT count(*) FROM files WHERE temp_path IS NOT NULL") == [["0"]])
    }

    @Test func reopeningWithNoEngineRunningRequeuesInterruptedTransfersKeepingCommittedBytes() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "live"))
        try group.createJob().addFiles(scratch.specs(1))
        try group.resume()
        let partial = try #require(try transferNextFile(manager, content: Array(repeating: 3, count: 64), partial: true))

        _ = try scratch.open()

        #expect(FileManager.default.fileExists(atPath: partial.tempPath))
        #expect(try query(scratch.database, "SELECT state, bytes_done FROM files") == [["queued", "32"]])
        #expect(try group.status().state == .queued)
    }

    @Test func reopeningWhileAnEngineHoldsTheQueueLeavesItsTransfersAlone() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "live"))
        try group.createJob().addFiles(scratch.specs(1))
        try group.resume()
        try transferNextFile(manager, content: Array(repeating: 3, count: 64), partial: true)
        let engine = try EngineLock(database: scratch.database)

        _ = try scratch.open()

        #expect(try query(scratch.database, "SELECT state, bytes_done FROM files") == [["transferring", "32"]])
        withExtendedLifetime(engine) {}
    }
}
