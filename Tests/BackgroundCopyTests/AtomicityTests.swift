import CSQLite
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// A queue with one group holding one job, in its own scratch directory.
private struct Queue {
    let scratch = Scratch()
    let manager: QueueManager
    let group: Group
    let job: Job

    init(_ configuration: QueueManager.Configuration = .init()) throws {
        manager = try scratch.open(configuration)
        group = try manager.createGroup(properties: GroupProperties(displayName: "atomicity"))
        job = try group.createJob()
    }

    var ledger: TransferLedger { TransferLedger(core: manager.core) }

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

    /// Takes the table digest, runs `call` (which must not throw) and expects the digest unchanged.
    func expectNothingChanged<T>(
        sourceLocation: SourceLocation = #_sourceLocation,
        returning call: () throws -> T
    ) throws -> T {
        let before = try tableDigest(scratch.database)
        let result = try call()
        let after = try tableDigest(scratch.database)
        #expect(before == after, "the call changed the database", sourceLocation: sourceLocation)
        return result
    }

    /// Claims the job's only file for transfer: the group resumed, the file `transferring`.
    func claimedFile(sourceLocation: SourceLocation = #_sourceLocation) throws -> Claim {
        try job.addFiles([FileSpec(remote: "https://example.test/a", local: scratch.path("a.bin"))])
        try group.resume()
        let claim = try #require(try ledger.claimNextFile(), sourceLocation: sourceLocation)
        #expect(try ledger.checkpoint(claim.fileRowID, bytesDone: 1, bytesTotal: 4, validator: nil), sourceLocation: sourceLocation)
        return claim
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

private let validSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

@Suite("Atomicity: groups and properties", .alongside)
struct GroupAtomicityTests {
    @Test(arguments: [
        GroupProperties(displayName: ""),
        GroupProperties(displayName: "ok", description: "bad\u{0}"),
        GroupProperties(displayName: "ok", retryDelay: .seconds(1)),
        GroupProperties(displayName: "ok", httpHeaders: [HTTPHeader(name: "X-Ok", value: "1"), HTTPHeader(name: "Cookie", value: "s")]),
    ])
    func createGroupWithAnInvalidPropertyChangesNothing(properties: GroupProperties) throws {
        let queue = try Queue()
        try queue.expectNothingChanged(throwing: .invalidArgument) { try queue.manager.createGroup(properties: properties) }
        #expect(try queue.manager.groups() == [queue.group])
    }

    @Test func createGroupWithTheIDOfALiveGroupChangesNothing() throws {
        let queue = try Queue()
        let error = try queue.expectNothingChanged(throwing: .alreadyExists) {
            try queue.manager.createGroup(id: queue.group.id, properties: GroupProperties(displayName: "again"))
        }
        #expect(error?.value == queue.group.id.description)
        #expect(try queue.group.properties().displayName == "atomicity")
    }

    @Test func createGroupWithTheIDOfACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .alreadyExists) {
            try queue.manager.createGroup(id: queue.group.id, properties: GroupProperties(displayName: "again"))
        }
        #expect(try queue.manager.groups().isEmpty)
    }

    @Test(arguments: [
        GroupProperties(displayName: String(repeating: "x", count: 257)),
        GroupProperties(displayName: "ok", notifyFlags: NotifyFlags(rawValue: 0x200)),
        GroupProperties(displayName: "ok", noProgressTimeout: .seconds(-1)),
        GroupProperties(displayName: "ok", priority: .foreground, httpHeaders: [HTTPHeader(name: "X-Bad", value: "a\r\nb")]),
    ])
    func setPropertiesWithAnInvalidPropertyChangesNothing(properties: GroupProperties) throws {
        let queue = try Queue()
        let before = try queue.group.properties()
        try queue.expectNothingChanged(throwing: .invalidArgument) { try queue.group.setProperties(properties) }
        #expect(try queue.group.properties() == before)
    }

    @Test func setPropertiesOnACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) {
            try queue.group.setProperties(GroupProperties(displayName: "renamed"))
        }
    }

    @Test func lookingUpAnUnknownGroupChangesNothing() throws {
        let queue = try Queue()
        let unknown = GroupID()
        let error = try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.manager.group(unknown) }
        #expect(error?.value == unknown.description)
    }

    @Test func lookingUpACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.manager.group(queue.group.id) }
        try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.group.properties() }
    }

    @Test func cancellingACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(2))
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.group.cancel() }
    }

    @Test func suspendingACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(1))
        try queue.group.resume()
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.group.suspend() }
    }

    @Test func switchingACancelledGroupToForegroundChangesNothing() throws {
        let queue = try Queue()
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.group.switchToForeground() }
        #expect(try query(queue.scratch.database, "SELECT priority FROM groups") == [["2"]])
    }

    @Test func resumingACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(1))
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.group.resume() }
    }
}

@Suite("Atomicity: calls that are no-ops write nothing", .alongside)
struct NoOpAtomicityTests {
    @Test func suspendingASuspendedGroupWritesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(1))
        try queue.expectNothingChanged { try queue.group.suspend() }
    }

    @Test func resumingAQueuedGroupWritesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(1))
        try queue.group.resume()
        try queue.expectNothingChanged { try queue.group.resume() }
        #expect(try queue.group.status().state == .queued)
    }

    @Test func switchingAForegroundGroupToForegroundWritesNothing() throws {
        let queue = try Queue()
        try queue.group.switchToForeground()
        try queue.expectNothingChanged { try queue.group.switchToForeground() }
    }
}

@Suite("Atomicity: resume with nothing to transfer", .alongside)
struct ResumeAtomicityTests {
    @Test func resumingAGroupWithoutFilesIsEmptyAndChangesNothing() throws {
        let queue = try Queue()
        let error = try queue.expectNothingChanged(throwing: .empty) { try queue.group.resume() }
        #expect(error?.value == queue.group.id.description)
        #expect(try queue.group.status().state == .suspended)
    }

    @Test func resumingAGroupWithoutJobsIsEmptyAndChangesNothing() throws {
        let queue = try Queue()
        let bare = try queue.manager.createGroup(properties: GroupProperties(displayName: "bare"))
        try queue.expectNothingChanged(throwing: .empty) { try bare.resume() }
    }

    @Test func resumingACompleteGroupIsEmptyAndChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles([FileSpec(remote: "https://example.test/a", local: queue.scratch.path("a.bin"))])
        try queue.group.resume()
        try transferNextFile(queue.manager, content: [1, 2, 3])
        #expect(try queue.group.status().state == .complete)
        try queue.expectNothingChanged(throwing: .empty) { try queue.group.resume() }
        #expect(try queue.group.status().state == .complete)
    }

    @Test func resumingAGroupWhoseOnlyJobWasCancelledIsEmptyAndChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(3))
        try queue.job.cancel()
        try queue.expectNothingChanged(throwing: .empty) { try queue.group.resume() }
    }
}

@Suite("Atomicity: jobs and files", .alongside)
struct JobAtomicityTests {
    @Test func createJobWithTheIDOfAJobInAnotherGroupChangesNothing() throws {
        let queue = try Queue()
        let other = try queue.manager.createGroup(properties: GroupProperties(displayName: "other"))
        let error = try queue.expectNothingChanged(throwing: .alreadyExists) { try other.createJob(id: queue.job.id) }
        #expect(error?.value == queue.job.id.description)
        #expect(try other.jobs().isEmpty)
    }

    @Test func createJobWithTheIDOfACancelledJobChangesNothing() throws {
        let queue = try Queue()
        try queue.job.cancel()
        try queue.expectNothingChanged(throwing: .alreadyExists) { try queue.group.createJob(id: queue.job.id) }
    }

    @Test func createJobInACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.group.createJob() }
    }

    @Test func lookingUpAnUnknownOrCancelledJobChangesNothing() throws {
        let queue = try Queue()
        let unknown = JobID()
        let error = try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.group.job(unknown) }
        #expect(error?.value == unknown.description)
        let other = try queue.manager.createGroup(properties: GroupProperties(displayName: "other"))
        try queue.expectNothingChanged(throwing: .notFound) { _ = try other.job(queue.job.id) }
        try queue.job.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.group.job(queue.job.id) }
    }

    @Test(arguments: [2, 3, -1, Int.max])
    func fileAtAnIndexOutsideTheJobIsNotFoundAndChangesNothing(index: Int) throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(2))
        let error = try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.job.file(at: index) }
        #expect(error?.value == "\(index)")
    }

    @Test func fileOfACancelledJobIsNotFoundAndChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(2))
        try queue.job.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.job.file(at: 0) }
        try queue.expectNothingChanged(throwing: .notFound) { _ = try queue.job.fileCount() }
    }

    @Test func cancellingACancelledJobChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(2))
        try queue.job.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.job.cancel() }
    }

    @Test func cancellingAJobOfACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(2))
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.job.cancel() }
    }

    @Test func addFilesWithAnInvalidFileChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(1, prefix: "existing"))
        try queue.expectNothingChanged(throwing: .invalidArgument) {
            try queue.job.addFiles([FileSpec(remote: "gopher://example.test/a", local: queue.scratch.path("a"))])
        }
        #expect(try queue.job.fileCount() == 1)
    }

    @Test(arguments: ["scheme", "relative", "sha256", "sizeHint", "duplicate"])
    func addFilesWhoseOnlyLastFileIsInvalidChangesNothing(defect: String) throws {
        let queue = try Queue()
        var batch = queue.scratch.specs(4)
        var last = FileSpec(remote: "https://example.test/last", local: queue.scratch.path("last"))
        switch defect {
        case "scheme": last.remote = "ftp://example.test/last"
        case "relative": last.local = "last"
        case "sha256": last.sha256 = String(validSHA256.dropLast())
        case "sizeHint": last.sizeHint = UInt64.max
        default: last.local = batch[1].local
        }
        batch.append(last)
        let error = try queue.expectNothingChanged(throwing: .invalidArgument) { try queue.job.addFiles(batch) }
        #expect(error?.message.contains("4") == true)
        #expect(try queue.job.fileCount() == 0)
    }

    @Test func addFilesWhoseLastFileIsInAMissingDirectoryChangesNothing() throws {
        let queue = try Queue()
        let batch = queue.scratch.specs(3) + [FileSpec(remote: "https://example.test/x", local: queue.scratch.path("gone/x"))]
        try queue.expectNothingChanged(throwing: .accessDenied) { try queue.job.addFiles(batch) }
    }

    @Test func addFilesWhoseLastFileCollidesWithALivePathChangesNothing() throws {
        let queue = try Queue()
        let other = try queue.manager.createGroup(properties: GroupProperties(displayName: "holder")).createJob()
        try other.addFiles([FileSpec(remote: "https://example.test/held", local: queue.scratch.path("held"))])
        try queue.job.addFiles(queue.scratch.specs(1, prefix: "mine"))
        let batch = queue.scratch.specs(5) + [FileSpec(remote: "https://example.test/held2", local: queue.scratch.path("held"))]
        let error = try queue.expectNothingChanged(throwing: .invalidArgument) { try queue.job.addFiles(batch) }
        #expect(error?.value == queue.scratch.path("held"))
        #expect(try queue.job.fileCount() == 1)
        #expect(try query(queue.scratch.database, "SELECT count(*) FROM files") == [["2"]])
    }

    @Test func addFilesCollidingOnItsLastFileLeavesACompleteGroupComplete() throws {
        let queue = try Queue()
        try queue.job.addFiles([FileSpec(remote: "https://example.test/a", local: queue.scratch.path("a.bin"))])
        try queue.group.resume()
        try transferNextFile(queue.manager, content: [7, 7, 7])
        #expect(try queue.group.status().state == .complete)
        let batch = queue.scratch.specs(3) + [FileSpec(remote: "https://example.test/again", local: queue.scratch.path("a.bin"))]
        try queue.expectNothingChanged(throwing: .invalidArgument) { try queue.job.addFiles(batch) }
        #expect(try queue.group.status().state == .complete)
    }

    @Test func addFilesToACancelledJobChangesNothing() throws {
        let queue = try Queue()
        try queue.job.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.job.addFiles(queue.scratch.specs(2)) }
    }

    @Test func addFilesToAJobOfACancelledGroupChangesNothing() throws {
        let queue = try Queue()
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .notFound) { try queue.job.addFiles(queue.scratch.specs(2)) }
    }
}

@Suite("Atomicity: engine steps on a file no longer claimed", .alongside)
struct LedgerAtomicityTests {
    @Test func checkpointAfterTheGroupWasSuspendedIsRefusedAndChangesNothing() throws {
        let queue = try Queue()
        let claim = try queue.claimedFile()
        try queue.group.suspend()
        let accepted = try queue.expectNothingChanged {
            try queue.ledger.checkpoint(claim.fileRowID, bytesDone: 3, bytesTotal: 4, validator: "\"v2\"")
        }
        #expect(accepted == false)
        #expect(try queue.job.file(at: 0).bytesDone == 1)
    }

    @Test func checkpointAfterTheGroupWasCancelledIsRefusedAndChangesNothing() throws {
        let queue = try Queue()
        let claim = try queue.claimedFile()
        try queue.group.cancel()
        let accepted = try queue.expectNothingChanged {
            try queue.ledger.checkpoint(claim.fileRowID, bytesDone: 3, bytesTotal: 4, validator: nil)
        }
        #expect(accepted == false)
    }

    @Test func beginFinalizingAfterTheJobWasCancelledIsRefusedAndChangesNothing() throws {
        let queue = try Queue()
        let claim = try queue.claimedFile()
        try queue.job.cancel()
        let accepted = try queue.expectNothingChanged { try queue.ledger.beginFinalizing(claim.fileRowID, bytesTotal: 4) }
        #expect(accepted == false)
    }

    @Test func failAfterTheGroupWasSuspendedIsRefusedAndChangesNothing() throws {
        let queue = try Queue()
        let claim = try queue.claimedFile()
        try queue.group.suspend()
        let accepted = try queue.expectNothingChanged {
            try queue.ledger.fail(claim.fileRowID, error: QueueError(.transfer, "HTTP 404", httpStatus: 404), retries: 0)
        }
        #expect(accepted == false)
        #expect(try queue.group.status().state == .suspended)
    }

    @Test func completingAFileThatIsNotFinalizingIsInvalidStateAndChangesNothing() throws {
        let queue = try Queue()
        let claim = try queue.claimedFile()
        let error = try queue.expectNothingChanged(throwing: .invalidState) { try queue.ledger.complete(claim.fileRowID) }
        #expect(error?.value == "\(claim.fileRowID)")
        try queue.group.cancel()
        try queue.expectNothingChanged(throwing: .invalidState) { try queue.ledger.complete(claim.fileRowID) }
    }

    @Test func releasingADiscardedFileChangesNothing() throws {
        let queue = try Queue()
        let claim = try queue.claimedFile()
        try queue.group.cancel()
        try queue.expectNothingChanged { try queue.ledger.release(claim.fileRowID) }
        #expect(try query(queue.scratch.database, "SELECT state FROM files") == [["discarded"]])
    }

    @Test func claimingWithNothingQueuedChangesNothing() throws {
        let queue = try Queue()
        try queue.job.addFiles(queue.scratch.specs(2))
        let claim = try queue.expectNothingChanged { try queue.ledger.claimNextFile() }
        #expect(claim == nil)
    }
}

@Suite("Atomicity: a failed call leaves no transaction open", .alongside)
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
