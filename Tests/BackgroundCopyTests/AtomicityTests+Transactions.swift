import CSQLite
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

// SQLite only: these tests look at SQLite's own locks (the database write lock, WAL readers) after a
// failed call. On PostgreSQL a failed call's transaction is rolled back by the store
// (`PostgresStore.transaction`) before its pooled connection is reused.

/// A queue with one group holding one job, in its own scratch directory.
private struct Queue {
    let scratch = Scratch()
    let manager: QueueManager
    let group: Group
    let job: Job

    init() throws {
        manager = try scratch.open()
        group = try manager.createGroup(properties: GroupProperties(displayName: "atomicity"))
        job = try group.createJob()
    }

    /// Takes the table digest, runs `call`, which must throw `code`, and expects the digest unchanged
    /// byte for byte.
    @discardableResult
    func expectNothingChanged(
        throwing code: QueueError.Code,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ call: () throws -> Void
    ) throws -> QueueError? {
        let before = try tableDigest(scratch.database)
        var caught: QueueError?
        do {
            try call()
        } catch {
            caught = error as? QueueError
            #expect(caught != nil, "threw \(error), not a QueueError", sourceLocation: sourceLocation)
        }
        let after = try tableDigest(scratch.database)
        #expect(
            caught?.code == code, "expected \(code), got \(caught.map(String.init(describing:)) ?? "no error")",
            sourceLocation: sourceLocation)
        #expect(before == after, "the failed call changed the database", sourceLocation: sourceLocation)
        return caught
    }
}

/// A raw second connection that tries to take the write lock at once (no busy wait).
private func writeLockIsFree(_ path: String) -> Bool {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else { return false }
    defer { sqlite3_close_v2(db) }
    sqlite3_busy_timeout(db, 0)
    guard sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK else { return false }
    return sqlite3_exec(db, "ROLLBACK", nil, nil, nil) == SQLITE_OK
}

/// Whether a raw second connection can checkpoint the whole WAL and truncate it: impossible while
/// another connection still holds a read transaction on an older snapshot.
private func noReaderHoldsTheWAL(_ path: String) -> Bool {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else { return false }
    defer { sqlite3_close_v2(db) }
    sqlite3_busy_timeout(db, 0)
    // Reading the schema makes the connection open the WAL; until then there is nothing to checkpoint.
    guard sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nil, nil, nil) == SQLITE_OK else { return false }
    var logFrames: Int32 = -1
    var checkpointed: Int32 = -1
    let rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, &logFrames, &checkpointed)
    return rc == SQLITE_OK && logFrames == 0
}

@Suite("Atomicity: a failed call leaves no transaction open (SQLite)", .alongside)
struct OpenTransactionTests {
    @Test func failureInsideAWriteTransactionLeavesTheWriteLockFree() throws {
        let queue = try Queue()
        let other = try queue.manager.createGroup(properties: GroupProperties(displayName: "holder")).createJob()
        try other.addFiles([FileSpec(remote: "https://example.test/held", local: queue.scratch.path("held"))])
        let batch = queue.scratch.specs(3) + [FileSpec(remote: "https://example.test/again", local: queue.scratch.path("held"))]
        try queue.expectNothingChanged(throwing: .invalidArgument) { try queue.job.addFiles(batch) }

        #expect(writeLockIsFree(queue.scratch.database))
        var impatient = QueueManager.Configuration()
        impatient.busyTimeout = .zero
        let second = try QueueManager(path: queue.scratch.database, configuration: impatient)
        let created = try second.createGroup(properties: GroupProperties(displayName: "from another connection"))
        try queue.job.addFiles(queue.scratch.specs(3))
        #expect(try queue.job.fileCount() == 3)
        #expect(try queue.manager.group(created.id).properties().displayName == "from another connection")
    }

    @Test func everyKindOfFailedWriteLeavesTheNextWriteFree() throws {
        let queue = try Queue()
        try queue.expectNothingChanged(throwing: .empty) { try queue.group.resume() }
        #expect(writeLockIsFree(queue.scratch.database))
        try queue.expectNothingChanged(throwing: .alreadyExists) {
            try queue.manager.createGroup(id: queue.group.id, properties: GroupProperties(displayName: "dup"))
        }
        #expect(writeLockIsFree(queue.scratch.database))
        try queue.expectNothingChanged(throwing: .alreadyExists) { try queue.group.createJob(id: queue.job.id) }
        #expect(writeLockIsFree(queue.scratch.database))
        let gone = try queue.manager.createGroup(properties: GroupProperties(displayName: "gone"))
        try gone.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try gone.cancel() }
        #expect(writeLockIsFree(queue.scratch.database))
        try queue.group.setProperties(GroupProperties(displayName: "still writable"))
        #expect(try queue.group.properties().displayName == "still writable")
    }

    @Test func failedReadLeavesNoReadTransactionOpen() throws {
        let queue = try Queue()
        try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.manager.group(GroupID()) }
        try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.job.file(at: 0) }
        #expect(noReaderHoldsTheWAL(queue.scratch.database))
        try queue.group.switchToForeground()
        #expect(try queue.group.properties().priority == .foreground)
    }
}
