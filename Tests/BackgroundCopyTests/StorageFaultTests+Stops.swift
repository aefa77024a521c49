import CSQLite
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Database failures that meet the scheduler or a stopped worker: the crash harness's live-fault
/// tier found an engine that stayed idle after one failed look (until something else committed),
/// and a worker stopped by the scheduler that gave up on its last step and left its file claimed.
@Suite("Engine: database failures at the scheduler and in stopped workers", .alone)
struct StorageFaultStopTests {
    /// A raw connection of another "process" (as the command line is) to the queue's database.
    final class OtherWriter {
        let db: OpaquePointer

        init(_ path: String) throws {
            var db: OpaquePointer?
            guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
                throw QueueError(.storage, "cannot open \(path)")
            }
            sqlite3_busy_timeout(db, 10_000)
            self.db = db
        }

        deinit { sqlite3_close_v2(db) }

        /// Commits `sql` and at once takes the write lock again, with no change of its own: the
        /// engine sees the change, then meets the lock.
        func commitThenHoldLock(_ sql: String) {
            #expect(sqlite3_exec(db, "BEGIN IMMEDIATE; \(sql); COMMIT; BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK)
        }

        /// Lets go of the lock: commits an empty transaction, which changes nothing anyone can see.
        func release() {
            #expect(sqlite3_exec(db, "COMMIT", nil, nil, nil) == SQLITE_OK)
        }
    }

    static func fileState(_ scratch: Scratch) throws -> String {
        try query(scratch.database, "SELECT state FROM files").first?.first ?? ""
    }

    @Test func aLookThatMetTheWriteLockIsTakenAgainOnceTheLockGoesEvenIfNothingElseCommits() async throws {
        let scratch = Scratch()
        var configuration = scratch.engineConfiguration()
        configuration.busyTimeout = .milliseconds(100)
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("locked"))
        try await group.createJob().addFiles([FileSpec(remote: "file://" + scratch.source("src", size: 64 << 10), local: scratch.path("dst"))])
        let engine = RunningEngine(manager)
        try await Task.sleep(for: .milliseconds(300))  // the engine has started and found nothing to do

        // Another process resumes the group and keeps the write lock: the engine's claim fails.
        let other = try OtherWriter(scratch.database)
        other.commitThenHoldLock("UPDATE groups SET state = 'queued'")
        #expect(
            try await eventually(timeout: .seconds(20)) { StorageFaultTests.warned(scratch, "database failure in the scheduler") },
            "the scheduler met the lock")
        try await Task.sleep(for: .milliseconds(300))
        other.release()

        #expect(
            try await eventually(timeout: .seconds(20)) { try group.status().state == .complete },
            "the engine looked again after the lock went")
        #expect(await engine.stop() == nil)
        #expect(scratch.contents("dst") == pattern(64 << 10))
    }

    @Test func aWorkerStoppedByTheSchedulerWaitsOutTheLockToHandItsFileBack() async throws {
        let scratch = Scratch()
        let size = 2 << 20
        let (engine, group) = try StorageFaultTests.slowCopy(scratch, size: size, busyTimeout: .milliseconds(100))
        #expect(try await eventually(timeout: .seconds(20)) { try StorageFaultTests.committed(scratch) > 0 })

        // Another process suspends the group and keeps the write lock: the engine stops the
        // transfer, whose worker must then wait for the lock to hand the file back.
        let other = try OtherWriter(scratch.database)
        other.commitThenHoldLock("UPDATE groups SET state = 'suspended'")
        #expect(
            try await eventually(timeout: .seconds(20)) { StorageFaultTests.warned(scratch, "database is locked") },
            "the stopped worker met the lock")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try Self.fileState(scratch) == "transferring")
        other.release()

        #expect(
            try await eventually(timeout: .seconds(20)) { try Self.fileState(scratch) == "queued" },
            "the worker handed its file back once the lock went")
        try await group.resume()
        #expect(try await eventually(timeout: .seconds(30)) { try group.status().state == .complete })
        #expect(await engine.stop() == nil)
        #expect(scratch.contents("slow") == pattern(size))
    }
}
