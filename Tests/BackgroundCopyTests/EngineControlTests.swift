import Foundation
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Engine: suspend, cancel, restart and retries while transferring", .alone)
struct EngineControlTests {
    /// A queue whose one background group copies a 4 MiB file at 512 KiB/s through a recording transport.
    static func slowTransfer(_ scratch: Scratch, _ transport: RecordingTransport) throws -> (QueueManager, Group) {
        var configuration = scratch.engineConfiguration(transport: transport)
        configuration.backgroundBytesPerSecond = 512 << 10
        let manager = try scratch.open(configuration)
        let source = scratch.source("big.src", size: 4 << 20)
        let group = try manager.createGroup(properties: quickRetries("slow"))
        try group.createJob().addFiles([FileSpec(remote: "test://" + source, local: scratch.path("big"))])
        try group.resume()
        return (manager, group)
    }

    static func committed(_ scratch: Scratch) throws -> Int {
        Int(try query(scratch.database, "SELECT bytes_done FROM files")[0][0]) ?? -1
    }

    static func tempSize(_ scratch: Scratch) throws -> UInt64? {
        let temp = try FileManager.default.contentsOfDirectory(atPath: scratch.directory).first { $0.hasSuffix(".bgcopy-part") }
        return try temp.map { try FileManager.default.attributesOfItem(atPath: scratch.path($0))[.size] as? UInt64 ?? 0 }
    }

    @Test func suspendStopsTheTransferWithinOneSecondAndResumeContinuesFromTheCheckpoint() async throws {
        let scratch = Scratch()
        let transport = RecordingTransport()
        let (manager, group) = try Self.slowTransfer(scratch, transport)
        let engine = RunningEngine(manager)
        #expect(try await eventually { try Self.committed(scratch) > 0 })

        let suspended = ContinuousClock.now
        try await group.suspend()
        #expect(
            try await eventually(timeout: .seconds(3)) {
                try query(scratch.database, "SELECT state FROM files") == [["queued"]]
            })
        let stopLatency = suspended.duration(to: .now)
        let held = try Self.tempSize(scratch)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try Self.tempSize(scratch) == held, "no byte is written after the stop")
        #expect(stopLatency < .seconds(1), "stopped after \(stopLatency)")
        let kept = try Self.committed(scratch)
        #expect(kept > 0 && UInt64(kept) == held)

        try await group.resume()
        #expect(try await eventually(timeout: .seconds(20)) { try group.status().state == .complete })
        await engine.stop()
        #expect(scratch.contents("big") == pattern(4 << 20))
        let offsets = transport.attempts.withLock { $0.map(\.offset) }
        #expect(offsets == [0, UInt64(kept)], "resume fetches only the missing bytes")
    }

    @Test func cancelStopsTheTransferWithinOneSecondAndRemovesTheTempFile() async throws {
        let scratch = Scratch()
        let (manager, group) = try Self.slowTransfer(scratch, RecordingTransport())
        let engine = RunningEngine(manager)
        #expect(try await eventually { try Self.committed(scratch) > 0 })

        let cancelled = ContinuousClock.now
        try await group.cancel()
        #expect(try await eventually(timeout: .seconds(3)) { try Self.tempSize(scratch) == nil })
        let stopLatency = cancelled.duration(to: .now)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try Self.tempSize(scratch) == nil, "the stopped transfer does not recreate its temp file")
        #expect(stopLatency < .seconds(1), "stopped after \(stopLatency)")
        #expect(try query(scratch.database, "SELECT state FROM files") == [["discarded"]])
        #expect(scratch.contents("big") == nil)
        #expect(await engine.stop() == nil)
    }

    @Test func stoppingTheEngineAndReopeningResumesWithoutFetchingCommittedBytesAgain() async throws {
        let scratch = Scratch()
        let transport = RecordingTransport()
        let (manager, group) = try Self.slowTransfer(scratch, transport)
        let engine = RunningEngine(manager)
        #expect(try await eventually { try Self.committed(scratch) >= 256 << 10 })
        #expect(await engine.stop() == nil)
        let kept = try Self.committed(scratch)

        var configuration = scratch.engineConfiguration(transport: transport)
        configuration.checkpointBytes = 1 << 20
        let reopened = try scratch.open(configuration)
        await #expect(try reopened.group(group.id).status().state == .queued)
        let again = RunningEngine(reopened)
        #expect(try await eventually(timeout: .seconds(20)) { try reopened.group(group.id).status().state == .complete })
        await again.stop()
        #expect(scratch.contents("big") == pattern(4 << 20))
        #expect(transport.attempts.withLock { $0.map(\.offset) } == [0, UInt64(kept)])
    }

    @Test func transientFailuresAreRetriedAfterTheRetryDelayUntilTheFileCompletes() async throws {
        let scratch = Scratch()
        let transient = QueueError(.transfer, "connection reset", isTransient: true)
        let transport = RecordingTransport(failures: [transient, transient])
        let manager = try scratch.open(scratch.engineConfiguration(transport: transport))
        let group = try await manager.createGroup(properties: quickRetries("flaky"))
        try await group.createJob().addFiles([FileSpec(remote: "test://" + scratch.source("s", size: 1000), local: scratch.path("out"))])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .complete })
        await engine.stop()
        #expect(transport.attempts.withLock { $0.count } == 3)
        #expect(scratch.contents("out") == pattern(1000))
        await #expect(try group.status().lastError == nil)
    }

    @Test func transientFailuresTurnIntoAnErrorAfterTheNoProgressTimeout() async throws {
        let scratch = Scratch()
        let transient = QueueError(.transfer, "HTTP 503", httpStatus: 503, isTransient: true)
        let transport = RecordingTransport(failures: Array(repeating: transient, count: 1000))
        let manager = try scratch.open(scratch.engineConfiguration(transport: transport))
        let group = try await manager.createGroup(properties: quickRetries("down", noProgressTimeout: .seconds(2)))
        try await group.createJob().addFiles([FileSpec(remote: "test://" + scratch.source("s", size: 10), local: scratch.path("out"))])
        try await group.resume()
        let engine = RunningEngine(manager)
        let reached = try await eventually { try group.status().state == .error }
        let rows = try query(scratch.database, "SELECT state, retry_at, progress_at, last_error_retries FROM groups")
        #expect(reached, "\(rows) \(transport.attempts.withLock { $0.count })")
        await engine.stop()
        let failure = try await #require(try group.status().lastError)
        #expect(failure.error.httpStatus == 503)
        #expect(failure.error.hresult == 0x8019_01F7)
        #expect(failure.retries >= 1)
        #expect(transport.attempts.withLock { $0.count } >= 2)
    }

    @Test func aZeroNoProgressTimeoutFailsOnTheFirstTransientError() async throws {
        let scratch = Scratch()
        let transport = RecordingTransport(failures: [QueueError(.transfer, "timeout", isTransient: true)])
        let manager = try scratch.open(scratch.engineConfiguration(transport: transport))
        let group = try await manager.createGroup(properties: quickRetries("no retries", noProgressTimeout: .zero))
        try await group.createJob().addFiles([FileSpec(remote: "test://" + scratch.source("s", size: 10), local: scratch.path("out"))])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .error })
        await engine.stop()
        #expect(transport.attempts.withLock { $0.count } == 1)
    }

    @Test func aPermanentFailureStopsTheJobAndResumeRetriesIt() async throws {
        let scratch = Scratch()
        let transport = RecordingTransport(failures: [QueueError(.transfer, "HTTP 404", httpStatus: 404)])
        var configuration = scratch.engineConfiguration(transport: transport)
        configuration.maxFilesPerGroup = 1  // the first fetch fails: it must be the first file's
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("missing"))
        let job = try await group.createJob()
        try await job.addFiles([
            FileSpec(remote: "test://" + scratch.source("s1", size: 10), local: scratch.path("one")),
            FileSpec(remote: "test://" + scratch.source("s2", size: 20), local: scratch.path("two")),
        ])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .error })
        await #expect(try job.files().map(\.state) == [.error, .queued], "an error stops the job: later files wait")
        let status = try await group.status()
        #expect(status.flags.contains(.groupError))
        #expect(status.lastError?.error.hresult == 0x8019_0194)
        await #expect(try job.status().flags.contains(.jobError))

        try await group.resume()
        #expect(try await eventually { try group.status().state == .complete })
        await engine.stop()
        #expect(scratch.contents("one") == pattern(10) && scratch.contents("two") == pattern(20))
        await #expect(try group.status().errorCount == 1)
    }

    @Test func backgroundGroupsAreThrottledAndForegroundGroupsAreNot() async throws {
        let scratch = Scratch()
        var configuration = scratch.engineConfiguration()
        configuration.backgroundBytesPerSecond = 64 << 10
        let manager = try scratch.open(configuration)
        let fore = try await manager.createGroup(properties: quickRetries("fore", priority: .foreground))
        try await fore.createJob().addFiles([FileSpec(remote: scratch.source("f", size: 1 << 20), local: scratch.path("fore"))])
        let back = try await manager.createGroup(properties: quickRetries("back", priority: .low))
        try await back.createJob().addFiles([FileSpec(remote: scratch.source("b", size: 192 << 10), local: scratch.path("back"))])
        try await fore.resume()
        try await back.resume()
        let started = ContinuousClock.now
        let engine = RunningEngine(manager)
        #expect(try await eventually(timeout: .seconds(30)) { try fore.status().state == .complete })
        let foregroundTime = started.duration(to: .now)
        #expect(try await eventually(timeout: .seconds(30)) { try back.status().state == .complete })
        let backgroundTime = started.duration(to: .now)
        await engine.stop()
        // Bounds that hold however loaded the machine is: the bucket holds one second's worth, so
        // 192 KiB at 64 KiB/s need at least 2 s; 1 MiB through it would need 15 s.
        #expect(backgroundTime >= .seconds(1.9), "background took \(backgroundTime)")
        #expect(foregroundTime < .seconds(12), "foreground took \(foregroundTime): throttled?")
        #expect(scratch.contents("fore") == pattern(1 << 20) && scratch.contents("back") == pattern(192 << 10))
    }
}

/// The real file system with a hook that runs just before a temp file is created.
final class HookedFileSystem: PassThroughFileSystem {
    private let real = PosixFileSystem()
    let beforeCreate: Mutex<(@Sendable (String) -> Void)?> = Mutex(nil)

    func open(_ path: String, exclusive: Bool) throws(QueueError) -> OpenFile {
        if exclusive, let hook = beforeCreate.withLock({ $0 }) { hook(path) }
        return try real.open(path, exclusive: exclusive)
    }
}

@Suite("Engine: races between a cancel and a starting transfer", .alone)
struct EngineRaceTests {
    @Test func aCancelCommittedBeforeTheTempFileExistsLeavesNoTempFileBehind() async throws {
        let scratch = Scratch()
        let hooked = HookedFileSystem()
        let manager = try QueueManager(
            path: scratch.database, configuration: scratch.engineConfiguration(),
            fileSystem: hooked, logger: scratch.logger)
        let group = try await manager.createGroup(properties: quickRetries("racing"))
        try await group.createJob().addFiles([FileSpec(remote: scratch.source("s", size: 300_000), local: scratch.path("out"))])
        hooked.beforeCreate.withLock { $0 = { _ in try? group.cancel() } }
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try query(scratch.database, "SELECT state FROM files") == [["discarded"]] })
        let clean = await eventually {
            ((try? FileManager.default.contentsOfDirectory(atPath: scratch.directory)) ?? []).allSatisfy { !$0.hasSuffix(".bgcopy-part") }
        }
        await engine.stop()
        #expect(clean, "the worker removed the temp file it created after the cancel")
        #expect(scratch.contents("out") == nil)
    }
}
