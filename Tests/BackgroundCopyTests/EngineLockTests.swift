import Testing
@testable import BackgroundCopy

@Suite("Engine lock: one engine per database, and opening a queue never stops one from starting")
struct EngineLockTests {
    @Test func anEngineStartingWhileAnOpenerBrieflyHoldsTheLockWaitsForItAndRuns() async throws {
        let scratch = Scratch()
        let manager = try scratch.open(scratch.engineConfiguration())
        let group = try await manager.createGroup(properties: quickRetries("copy"))
        try await group.createJob().addFiles([FileSpec(remote: "file://" + scratch.source("a.src", size: 5000), local: scratch.path("a"))])
        try await group.resume()
        let engine: RunningEngine
        do {
            // What `QueueManager(path:)` in another process does while it decides whether to run recovery.
            let opener = try EngineLock(database: scratch.database)
            engine = RunningEngine(manager)
            try await Task.sleep(for: .milliseconds(100))
            withExtendedLifetime(opener) {}
        }
        #expect(try await eventually { try group.status().state == .complete })
        #expect(await engine.stop() == nil)
        #expect(scratch.contents("a") == pattern(5000))
    }

    @Test func anEngineWhoseLockStaysHeldPastItsPatienceGetsInvalidState() async throws {
        let scratch = Scratch()
        _ = try scratch.open()
        let other = try EngineLock(database: scratch.database)
        await #expect(throws: QueueError.self) {
            _ = try await EngineLock.acquire(database: scratch.database, patience: .milliseconds(50))
        }
        withExtendedLifetime(other) {}
    }
}
