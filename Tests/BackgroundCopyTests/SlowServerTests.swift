import Foundation
import BackgroundCopyTesting
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Servers that send too slowly, or the same bytes over and over, give way: the low-speed limit
/// and the no-progress timeout apply, and other groups run meanwhile.
@Suite("Engine: slow and repeating servers", .alone)
struct SlowServerTests {
    @Test func aTricklingBackgroundGroupFailsTheLowSpeedLimitAndLetsTheNextGroupRun() async throws {
        let http = try await HTTPFixture {
            $0.lowSpeedLimit = 1000
            $0.lowSpeedTime = .seconds(1)
        }
        http.server.serve("/slow.bin", size: 50_000, seed: 1)
        http.server.serve("/other.bin", size: 200_000, seed: 2)
        http.server.setFault("/slow.bin", .trickle(bytesPerSecond: 20))
        let slow = try http.download("/slow.bin")
        let other = try http.download("/other.bin")

        #expect(try await http.finished(other, timeout: .seconds(30)) == .complete, "the stalled group yielded")
        let failure = try await slow.status().lastError
        #expect(failure?.error.message.contains("low-speed limit") == true, "\(String(describing: failure))")
        await #expect(try slow.status().state != .error)

        http.server.setFault("/slow.bin", nil)
        #expect(try await http.finished(slow, timeout: .seconds(30)) == .complete)
        try await http.stop()
        #expect(http.file("slow.bin") == http.server.expected("/slow.bin"))
        #expect(http.file("other.bin") == http.server.expected("/other.bin"))
    }

    @Test func bytesRefetchedAfterARestartFromZeroAreNotProgressSoTheNoProgressTimeoutEndsIt() async throws {
        let http = try await HTTPFixture()
        http.server.serve("/half.bin", size: 400_000, seed: 3)
        http.server.setFault("/half.bin", .truncateIgnoringRange(bytes: 200_000))
        // The window holds several tries even when a loaded machine stretches each to a second.
        let group = try http.download("/half.bin", properties: quickRetries("half", noProgressTimeout: .seconds(8)))

        #expect(try await http.finished(group, timeout: .seconds(60)) == .error)
        try await http.stop()
        let failure = try await #require(try group.status().lastError)
        #expect(failure.retries >= 2, "the retry count, and with it the backoff, kept growing: \(failure)")
        #expect(http.server.requests("/half.bin").count >= 3)
    }

    @Test func aDownloadThatFailsItsSHA256LeavesNoTempFileBehind() async throws {
        let http = try await HTTPFixture()
        http.server.serve("/bad.bin", size: 10_000, seed: 4)
        let group = try http.download("/bad.bin", sha256: String(repeating: "0", count: 64))
        #expect(try await http.finished(group) == .error)
        try await http.stop()
        #expect(try leftoverTempFiles(http.scratch).isEmpty)
        await #expect(try group.status().lastError?.error.code == .validationFailed)
    }

    @Test func aDownloadAnswered404LeavesNoTempFileBehind() async throws {
        let http = try await HTTPFixture()
        let group = try http.download("/missing.bin")
        #expect(try await http.finished(group) == .error)
        try await http.stop()
        #expect(try leftoverTempFiles(http.scratch).isEmpty)
        await #expect(try group.status().lastError?.error.httpStatus == 404)
    }

    @Test func aFinishedDownloadHasTheModeOfANewFileUnderTheUmask() async throws {
        let http = try await HTTPFixture()
        http.server.serve("/mode.bin", size: 1000, seed: 5)
        let group = try http.download("/mode.bin")
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        let attributes = try FileManager.default.attributesOfItem(atPath: http.scratch.path("mode.bin"))
        let mode = (attributes[.posixPermissions] as? NSNumber)?.uint32Value
        #expect(mode == 0o666 & ~PosixFileSystem.creationMask)
    }

    @Test func aZeroMinimumRetryDelayStillWaitsTheOneSecondFloor() throws {
        let scratch = Scratch()
        var configuration = QueueManager.Configuration()
        configuration.minimumRetryDelay = .zero
        let manager = try scratch.open(configuration)
        let context = EngineContext(core: manager.core, ledger: TransferLedger(core: manager.core), transports: [:])
        for retries in 1...3 {
            #expect(context.retryDelay(groupDelayMilliseconds: 0, retries: retries, serverAsked: nil) >= .milliseconds(900))
        }
    }
}

/// The names of the temp files left in the scratch directory.
func leftoverTempFiles(_ scratch: Scratch) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: scratch.directory).filter { $0.hasSuffix(".bgcopy-part") }
}
