import Crypto
import Synchronization
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Engine: local copies, order, integrity, one engine per queue", .alone)
struct EngineTests {
    @Test func engineCopiesLocalFilesAndCompletesTheGroup() async throws {
        let scratch = Scratch()
        let manager = try scratch.open(scratch.engineConfiguration())
        let sources = [scratch.source("a.src", size: 300_000), scratch.source("b.src", size: 1, seed: 2), scratch.source("c.src", size: 0)]
        let group = try await manager.createGroup(properties: quickRetries("local"))
        let job = try await group.createJob()
        try await job.addFiles([
            FileSpec(remote: "file://" + sources[0], local: scratch.path("a")),
            FileSpec(remote: sources[1], local: scratch.path("b")),
            FileSpec(remote: "file://" + sources[2], local: scratch.path("c")),
        ])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .complete })
        #expect(await engine.stop() == nil)

        #expect(scratch.contents("a") == pattern(300_000))
        #expect(scratch.contents("b") == pattern(1, seed: 2))
        #expect(scratch.contents("c") == [])
        await #expect(try job.files().map(\.state) == [.complete, .complete, .complete])
        await #expect(try group.progress().percent == 100)
        await #expect(try group.status().flags == [.groupComplete, .groupSuspended])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.directory).filter { $0.hasSuffix(".bgcopy-part") }
        #expect(leftovers.isEmpty)
        let kinds = try manager.recordedEvents().map(\.kind)
        #expect(kinds.filter { $0 == .fileComplete }.count == 3)
        #expect(kinds.filter { $0 == .jobComplete }.count == 1)
        #expect(kinds.last == .groupComplete)
    }

    @Test func expectedSHA256IsVerifiedBeforeTheFileBecomesVisible() async throws {
        let scratch = Scratch()
        let manager = try scratch.open(scratch.engineConfiguration())
        let source = scratch.source("good.src", size: 50_000)
        let right = Array(SHA256.hash(data: pattern(50_000))).hexString
        let wrong = String(repeating: "0", count: 64)
        let good = try await manager.createGroup(properties: quickRetries("good"))
        try await good.createJob().addFiles([FileSpec(remote: source, local: scratch.path("good"), sha256: right)])
        let bad = try await manager.createGroup(properties: quickRetries("bad"))
        try await bad.createJob().addFiles([FileSpec(remote: source, local: scratch.path("bad"), sha256: wrong)])
        try await good.resume()
        try await bad.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try good.status().state == .complete && bad.status().state == .error })
        await engine.stop()

        #expect(scratch.contents("good") == pattern(50_000))
        #expect(scratch.contents("bad") == nil)
        let status = try await bad.status()
        #expect(status.lastError?.error.code == .validationFailed)
        #expect(status.lastError?.error.hresult == 0x8020_0053)
        #expect(status.lastError?.fileIndex == 0)
        await #expect(try bad.jobs()[0].file(at: 0).bytesDone == 0)
    }

    @Test func aSecondEngineOnTheSameQueueIsRefused() async throws {
        let scratch = Scratch()
        let manager = try scratch.open(scratch.engineConfiguration())
        let first = RunningEngine(manager)
        try await Task.sleep(for: .milliseconds(200))
        let other = try scratch.open(scratch.engineConfiguration())
        let error = await RunningEngine(other).stop()
        #expect(error?.code == .invalidState)
        #expect(error?.message.contains("another transfer engine") == true)
        #expect(await first.stop() == nil)
        let again = RunningEngine(other)
        try await Task.sleep(for: .milliseconds(100))
        #expect(await again.stop() == nil)
    }

    @Test func foregroundGroupsGoFirstThenBackgroundByPriorityThenAge() async throws {
        let scratch = Scratch()
        let transport = RecordingTransport()
        var configuration = scratch.engineConfiguration(transport: transport)
        configuration.maxConcurrentTransfers = 1
        let manager = try scratch.open(configuration)
        let source = scratch.source("s", size: 10)
        for (name, priority) in [("low", Priority.low), ("normal-1", .normal), ("high", .high), ("normal-2", .normal), ("fore", .foreground)] {
            let group = try await manager.createGroup(properties: quickRetries(name, priority: priority))
            try await group.createJob().addFiles([FileSpec(remote: "test://" + source, local: scratch.path(name))])
            try await group.resume()
        }
        let engine = RunningEngine(manager)
        #expect(try await eventually { try manager.groups().allSatisfy { try $0.status().state == .complete } })
        await engine.stop()
        #expect(transport.attempts.withLock { $0.count } == 5)
        let completionOrder = try manager.recordedEvents().filter { $0.kind == .groupComplete }
            .map { event in try manager.group(event.groupID).properties().displayName }
        #expect(completionOrder == ["fore", "high", "normal-1", "normal-2", "low"])
    }
}

/// A `slow` transport: each fetch takes 100 ms and delivers 10 bytes; records the most fetches in flight at once.
final class ConcurrencyProbe: Transport {
    let inFlight = Mutex(0)
    let most = Mutex(0)

    func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError) {
        let now = inFlight.withLock { count -> Int in
            count += 1; return count
        }
        most.withLock { $0 = max($0, now) }
        defer { inFlight.withLock { $0 -= 1 } }
        try? await Task.sleep(for: .milliseconds(100))
        try await sink.begin(at: 0, total: 10, validator: nil)
        try await sink.write(Array(repeating: UInt8(7), count: 10))
    }
}

@Suite("Engine: files of one group in parallel", .alone)
struct EngineParallelTests {
    @Test(arguments: [(1, 1), (4, 4)])
    func aGroupTransfersAtMostMaxFilesPerGroupAtOnce(perGroup: Int, expected: Int) async throws {
        let scratch = Scratch()
        let probe = ConcurrencyProbe()
        var configuration = scratch.engineConfiguration()
        configuration.allowedSchemes.insert("slow")
        configuration.transports["slow"] = probe
        configuration.maxFilesPerGroup = perGroup
        configuration.maxConcurrentTransfers = 6
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("many", priority: .low))
        try await group.createJob().addFiles((0..<8).map { FileSpec(remote: "slow://x/\($0)", local: scratch.path("f\($0)")) })
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .complete })
        await engine.stop()
        #expect(probe.most.withLock { $0 } == expected)
        #expect((0..<8).allSatisfy { scratch.contents("f\($0)") == Array(repeating: 7, count: 10) })
    }
}
