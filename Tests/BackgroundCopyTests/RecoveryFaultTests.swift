import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Recovery on open never aborts the open: a temp file it cannot repair puts its group in error,
/// naming the path, and every other group and command keeps working (DESIGN.md, Durability 5).
@Suite("Recovery on open: a temp file it cannot repair", .alone)
struct RecoveryFaultTests {
    /// What a temp file was replaced with after a kill.
    enum Replacement: String, CaseIterable, Sendable {
        case symbolicLink
        case directory
    }

    /// Two resumed groups copying `file://` sources; the first has a partial transfer whose temp
    /// file is then replaced, with the queue closed, by `replacement`.
    static func brokenTemp(_ scratch: Scratch, _ replacement: Replacement) throws -> (broken: GroupID, healthy: GroupID, temp: String) {
        let manager = try scratch.open(scratch.engineConfiguration())
        let broken = try manager.createGroup(properties: quickRetries("broken"))
        try broken.createJob().addFiles([FileSpec(remote: "file://" + scratch.source("broken.src", size: 1000), local: scratch.path("broken"))])
        let healthy = try manager.createGroup(properties: quickRetries("healthy"))
        try healthy.createJob().addFiles([
            FileSpec(
                remote: "file://" + scratch.source("healthy.src", size: 5000, seed: 2),
                local: scratch.path("healthy"))
        ])
        try broken.resume()
        let claim = try #require(try transferNextFile(manager, content: pattern(1000), partial: true))
        try healthy.resume()
        try FileManager.default.removeItem(atPath: claim.tempPath)
        switch replacement {
        case .symbolicLink:
            scratch.write("target", [1, 2, 3])
            try FileManager.default.createSymbolicLink(atPath: claim.tempPath, withDestinationPath: scratch.path("target"))
        case .directory:
            try FileManager.default.createDirectory(atPath: claim.tempPath, withIntermediateDirectories: false)
        }
        return (broken.id, healthy.id, claim.tempPath)
    }

    @Test(arguments: Replacement.allCases)
    func aTempFileReplacedAfterAKillPutsOnlyItsGroupInErrorNamingThePath(_ replacement: Replacement) async throws {
        let scratch = Scratch()
        let (brokenID, healthyID, temp) = try Self.brokenTemp(scratch, replacement)

        let manager = try scratch.open(scratch.engineConfiguration())

        let status = try await manager.group(brokenID).status()
        #expect(status.state == .error)
        #expect(status.lastError?.error.message.contains(temp) == true, "\(String(describing: status.lastError))")
        #expect(status.lastError?.error.code == .fileSystem)
        await #expect(try manager.group(healthyID).status().state == .queued)
        await #expect(try manager.groups().count == 2)

        let engine = RunningEngine(manager)
        let healthy = try await manager.group(healthyID)
        #expect(try await eventually { try healthy.status().state == .complete })
        #expect(await engine.stop() == nil)
        #expect(scratch.contents("healthy") == pattern(5000, seed: 2))
        await #expect(try manager.group(brokenID).status().state == .error)
    }

    @Test(arguments: Replacement.allCases)
    func recoveryOfAnUnrepairableTempFileRunTwiceRecordsTheErrorOnce(_ replacement: Replacement) throws {
        let scratch = Scratch()
        let (brokenID, _, _) = try Self.brokenTemp(scratch, replacement)
        _ = try scratch.open(scratch.engineConfiguration())
        let before = try tableDigest(scratch.database)

        let manager = try scratch.open(scratch.engineConfiguration())

        #expect(try tableDigest(scratch.database) == before)
        #expect(try manager.group(brokenID).status().errorCount == 1)
    }

    @Test(arguments: Replacement.allCases)
    func aGroupWhoseTempFileWasReplacedCanStillBeCancelledAndTheQueueStillOpens(_ replacement: Replacement) throws {
        let scratch = Scratch()
        let (brokenID, healthyID, temp) = try Self.brokenTemp(scratch, replacement)
        let manager = try scratch.open(scratch.engineConfiguration())

        try manager.group(brokenID).cancel()

        #expect(throws: QueueError.self) { try manager.group(brokenID) }
        if replacement == .symbolicLink {
            #expect(try PosixFileSystem().kind(of: temp) == nil, "the link is removed")
            #expect(scratch.contents("target") == [1, 2, 3], "what it pointed to is untouched")
        }
        let reopened = try scratch.open(scratch.engineConfiguration())
        #expect(try reopened.groups().map(\.id) == [healthyID])
    }

    @Test func aResumedGroupWhoseTempFileIsStillALinkFailsAgainNamingThePath() async throws {
        let scratch = Scratch()
        let (brokenID, _, temp) = try Self.brokenTemp(scratch, .symbolicLink)
        let manager = try scratch.open(scratch.engineConfiguration())
        let broken = try await manager.group(brokenID)
        try await broken.resume()

        let engine = RunningEngine(manager)
        #expect(try await eventually { try broken.status().state == .error })
        #expect(await engine.stop() == nil)
        await #expect(try broken.status().lastError?.error.message.contains(temp) == true)
        #expect(scratch.contents("target") == [1, 2, 3])
    }
}
