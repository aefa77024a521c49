import CSQLite
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Storage failures in a running engine pass: the engine waits them out and goes on, never
/// exits, never fails a group for them, never leaves a file claimed (DESIGN.md, Transfer engine).
@Suite("Engine: database failures that pass", .alone)
struct StorageFaultTests {
    /// A queue whose engine copies a `size`-byte `file://` source slowly (throttled, in 16 KiB
    /// reads, a checkpoint every 16 KiB), so many commits fall inside a fault; the engine runs.
    static func slowCopy(_ scratch: Scratch, size: Int, busyTimeout: Duration = .seconds(5)) throws -> (RunningEngine, Group) {
        var configuration = scratch.engineConfiguration()
        configuration.busyTimeout = busyTimeout
        configuration.backgroundBytesPerSecond = 1 << 20
        configuration.checkpointBytes = 16 << 10
        configuration.transports["file"] = FileTransport(fileSystem: PosixFileSystem(), chunkSize: 16 << 10)
        let manager = try scratch.open(configuration)
        let group = try manager.createGroup(properties: quickRetries("slow"))
        try group.createJob().addFiles([FileSpec(remote: "file://" + scratch.source("slow.src", size: size), local: scratch.path("slow"))])
        try group.resume()
        return (RunningEngine(manager), group)
    }

    static func committed(_ scratch: Scratch) throws -> Int {
        Int(try query(scratch.database, "SELECT bytes_done FROM files").first?.first ?? "") ?? 0
    }

    static func groupErrors(_ scratch: Scratch) throws -> Int {
        Int(try query(scratch.database, "SELECT count(*) FROM events WHERE kind = 'groupError'").first?.first ?? "") ?? -1
    }

    /// Whether the library logged a warning whose text mentions `text`.
    /// Whether the library logged (at info: a library logs nothing above it) a failure naming `text`.
    static func warned(_ scratch: Scratch, _ text: String) -> Bool {
        scratch.log.entries.contains { $0.level == .info && "\($0.message) \($0.metadata)".contains(text) }
    }

    @Test func aWriteLockHeldByAnotherConnectionPastTheBusyTimeoutIsWaitedOutAndTheGroupCompletes() async throws {
        let scratch = Scratch()
        let size = 2 << 20
        let (engine, group) = try Self.slowCopy(scratch, size: size, busyTimeout: .milliseconds(100))
        #expect(try await eventually(timeout: .seconds(20)) { try Self.committed(scratch) > 0 })

        var other: OpaquePointer?
        #expect(sqlite3_open_v2(scratch.database, &other, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK)
        sqlite3_busy_timeout(other, 10_000)
        #expect(sqlite3_exec(other, "BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK)
        #expect(
            try await eventually(timeout: .seconds(20)) { Self.warned(scratch, "database is locked") },
            "the engine ran into the lock")
        try await Task.sleep(for: .seconds(1))
        #expect(sqlite3_exec(other, "COMMIT", nil, nil, nil) == SQLITE_OK)
        sqlite3_close_v2(other)

        #expect(try await eventually(timeout: .seconds(30)) { try group.status().state == .complete })
        #expect(await engine.stop() == nil, "the engine kept running")
        #expect(scratch.contents("slow") == pattern(size))
        await #expect(try group.status().errorCount == 0)
        #expect(try Self.groupErrors(scratch) == 0)
    }

    @Test func aFullDatabaseIsWaitedOutAndTheTransferGoesOnOnceSpaceReturns() async throws {
        let scratch = Scratch()
        let size = 4 << 20
        let (engine, group) = try Self.slowCopy(scratch, size: size)
        #expect(try await eventually(timeout: .seconds(20)) { try Self.committed(scratch) > 0 })

        // The database may not grow by a page: the next commit that needs one fails with SQLITE_FULL.
        let store = engine.manager.core.store
        try await store.write { db throws(QueueError) in try db.execute("PRAGMA max_page_count = 1") }
        #expect(
            try await eventually(timeout: .seconds(30)) { Self.warned(scratch, "database or disk is full") },
            "the engine ran out of room")
        await #expect(try group.status().state != .error)
        try await store.write { db throws(QueueError) in try db.execute("PRAGMA max_page_count = 1073741823") }

        #expect(try await eventually(timeout: .seconds(30)) { try group.status().state == .complete })
        #expect(await engine.stop() == nil, "the engine kept running")
        #expect(scratch.contents("slow") == pattern(size))
        await #expect(try group.status().errorCount == 0)
        #expect(try Self.groupErrors(scratch) == 0)
    }
}
