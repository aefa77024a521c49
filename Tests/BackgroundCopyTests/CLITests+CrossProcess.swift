import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The CLI steering a queue whose engine runs in another process (here: the test process).
@Suite("CLI: steering another process's engine", .serialized, .alone)
struct CLICrossProcessTests {
    /// A queue whose one background group holds a small file and a 4 MiB file, copied from
    /// `file://` sources at 512 KiB/s (in 64 KiB reads, so progress moves smoothly) by an engine
    /// running in this process with the default change-poll interval.
    static func slowGroup(_ scratch: Scratch) throws -> (RunningEngine, Group) {
        var configuration = QueueManager.Configuration()
        configuration.backgroundBytesPerSecond = 512 << 10
        configuration.minimumRetryDelay = .milliseconds(50)
        configuration.retryDelayFloor = .zero
        configuration.checkpointBytes = 64 << 10
        configuration.checkpointInterval = .milliseconds(200)
        configuration.transports["file"] = FileTransport(fileSystem: PosixFileSystem(), chunkSize: 64 << 10)
        let manager = try scratch.open(configuration)
        let group = try manager.createGroup(properties: quickRetries("slow"))
        try group.createJob().addFiles([
            FileSpec(remote: "file://" + scratch.source("small.src", size: 16 << 10), local: scratch.path("small")),
            FileSpec(remote: "file://" + scratch.source("big.src", size: 4 << 20, seed: 3), local: scratch.path("big")),
        ])
        try group.resume()
        return (RunningEngine(manager), group)
    }

    static func states(_ scratch: Scratch) throws -> [String] {
        try query(scratch.database, "SELECT state FROM files ORDER BY position").map { $0[0] }
    }

    static func bigCommitted(_ scratch: Scratch) throws -> Int {
        Int(try query(scratch.database, "SELECT bytes_done FROM files WHERE position = 1").first?.first ?? "") ?? 0
    }

    static func tempFiles(_ scratch: Scratch) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: scratch.directory).filter { $0.hasSuffix(".bgcopy-part") }
    }

    @Test func cancelFromTheCommandLineStopsAnotherProcesssTransferWithinOneSecondAndKeepsCompleteFiles() async throws {
        let scratch = Scratch()
        let (engine, group) = try Self.slowGroup(scratch)
        #expect(
            try await eventually(timeout: .seconds(20)) {
                try Self.states(scratch).first == "complete" && Self.bigCommitted(scratch) > 0
            })
        #expect(try Self.tempFiles(scratch).count == 1)

        let result = try await CLI.run(["cancel", String(group.id.description.prefix(8))], scratch)
        let committed = ContinuousClock.now  // the cancel's transaction has committed when the child exits
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("retained 1, discarded 1"), "\(result)")
        #expect(try await eventually(timeout: .seconds(3)) { try Self.tempFiles(scratch).isEmpty })
        let latency = committed.duration(to: .now)
        #expect(latency < .seconds(1), "the transfer stopped \(latency) after the cancel committed")
        try await Task.sleep(for: .milliseconds(400))
        #expect(try Self.tempFiles(scratch).isEmpty, "the stopped transfer does not write its temp file again")
        #expect(try Self.states(scratch) == ["retained", "discarded"])
        #expect(scratch.contents("small") == pattern(16 << 10), "the complete file stays where it was")
        #expect(scratch.contents("big") == nil)
        #expect(await engine.stop() == nil, "the engine goes on running after the cancel")
    }

    @Test func suspendFromTheCommandLineStopsTheTransferAndResumeFinishesIt() async throws {
        let scratch = Scratch()
        let (engine, group) = try Self.slowGroup(scratch)
        #expect(try await eventually(timeout: .seconds(20)) { try Self.bigCommitted(scratch) > 0 })
        try await CLI.ok(["suspend", "slow"], scratch)
        let committed = ContinuousClock.now
        #expect(try await eventually(timeout: .seconds(3)) { try Self.states(scratch).last == "queued" })
        #expect(committed.duration(to: .now) < .seconds(1))
        #expect(try await CLI.info("slow", scratch)["state"] as? String == "suspended")
        try await CLI.ok(["foreground", "slow"], scratch)  // foreground is never throttled
        try await CLI.ok(["resume", "slow"], scratch)
        #expect(try await eventually(timeout: .seconds(20)) { try group.status().state == .complete })
        #expect(scratch.contents("big") == pattern(4 << 20, seed: 3))
        await engine.stop()
    }

    @Test func listAndMonitorShowAnotherProcesssTransferWithItsRate() async throws {
        let scratch = Scratch()
        let (engine, group) = try Self.slowGroup(scratch)
        #expect(try await eventually(timeout: .seconds(20)) { try Self.bigCommitted(scratch) >= 1 << 20 })
        let listed = try await CLI.run(["list", "--json"], scratch).objects()
        #expect(listed.first?["state"] as? String == "transferring")
        let rate = try #require(listed.first?["bytesPerSecond"] as? Int, "\(listed)")
        #expect(rate > 100 << 10 && rate < 2 << 20, "about 512 KiB/s: \(rate)")
        let table = try await CLI.ok(["list"], scratch)
        #expect(table.contains("transferring") && table.contains("/s"))

        let monitor = try await CLI.run(["monitor", "--count", "4", "--interval", "0.5"], scratch)
        #expect(monitor.status == 0, "\(monitor)")
        #expect(monitor.lines.filter { $0.contains("slow") && $0.contains("transferring") }.count == 4)
        #expect(monitor.stdout.contains("iB/s"), "the monitor measures the rate between refreshes")
        try await group.cancel()
        await engine.stop()
    }

    @Test func downloadWatchesWhenAnotherProcessRunsTheEngine() async throws {
        let scratch = Scratch()
        let engine = RunningEngine(try scratch.open())
        try await Task.sleep(for: .milliseconds(200))
        let source = scratch.source("hosted.bin", size: 200_000)
        let result = try await CLI.run(["download", "file://" + source, "--to", scratch.path("out")], scratch)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("another process runs the engine"))
        #expect(scratch.contents("out/hosted.bin") == pattern(200_000))
        await engine.stop()
    }
}
