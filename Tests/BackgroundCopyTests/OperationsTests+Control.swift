import Foundation
import Testing
@testable import BackgroundCopy

// MARK: - suspend, resume, switchToForeground

extension OperationsTests {
    @Suite("suspend, resume, switchToForeground")
    struct Control {
        @Test func suspendMakesAQueuedGroupSuspended() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "s")
            try group.resume()
            try group.suspend()
            #expect(try group.status().state == .suspended)
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "suspended"])
        }

        @Test func suspendOfATransferringGroupKeepsPartialBytes() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "partial")
            try group.resume()
            let claim = try #require(try transferNextFile(f.manager, content: operationContent, partial: true))
            try group.suspend()
            #expect(try group.status().state == .suspended)
            #expect(try job.file(at: 0).bytesDone == 50)
            #expect(FileManager.default.fileExists(atPath: claim.tempPath))
            // The engine's next checkpoint sees the file is no longer claimed and stops.
            #expect(try TransferLedger(core: f.manager.core).checkpoint(claim.fileRowID, bytesDone: 60, bytesTotal: 100, validator: nil) == false)
            #expect(try job.file(at: 0).bytesDone == 50)
        }

        @Test func suspendThenResumeContinuesFromTheCommittedBytes() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "again")
            let ledger = TransferLedger(core: f.manager.core)
            try group.resume()
            let first = try #require(try transferNextFile(f.manager, content: operationContent, partial: true))
            try group.suspend()
            // The engine notices (its checkpoint is refused) and hands the file back.
            #expect(try ledger.checkpoint(first.fileRowID, bytesDone: 60, bytesTotal: 100, validator: nil) == false)
            try ledger.release(first.fileRowID)
            #expect(try ledger.claimNextFile() == nil)  // suspended: nothing to claim
            try group.resume()
            let second = try #require(try ledger.claimNextFile())
            #expect(second.fileRowID == first.fileRowID)
            #expect(second.bytesDone == 50)
            #expect(second.tempPath == first.tempPath)
            #expect(second.validator == "\"v1\"")
            #expect(try job.file(at: 0).state == .transferring)
        }

        @Test func resumeAfterReopeningReclaimsAFileThatWasTransferringWhenTheProcessStopped() throws {
            let scratch = Scratch()
            let id = GroupID()
            do {
                let manager = try scratch.open()
                let group = try manager.createGroup(id: id, properties: operationProps())
                try group.createJob().addFiles(scratch.specs(1, prefix: "crash"))
                try group.resume()
                try #require(try transferNextFile(manager, content: operationContent, partial: true) != nil)
                try group.suspend()
                // The process stops here: no engine is left to release the claimed file.
            }
            let manager = try scratch.open()
            let group = try manager.group(id)
            // DESIGN.md, Durability step 5: recovery on open returns `transferring` rows to `queued`.
            #expect(try group.jobs().first?.file(at: 0).state == .queued)
            try group.resume()
            let claim = try TransferLedger(core: manager.core).claimNextFile()
            #expect(claim?.groupID == id)
            #expect(claim?.bytesDone == 50)
        }

        @Test func suspendOnSuspendedGroupIsANoOpWithoutEvent() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "s")
            let before = try f.digest()
            try group.suspend()
            #expect(try f.digest() == before)
            #expect(try group.status().state == .suspended)
        }

        @Test func suspendOnCompleteGroupIsANoOpWithoutEvent() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.completeGroup(1, prefix: "c")
            let before = try f.digest()
            try group.suspend()
            #expect(try f.digest() == before)
            #expect(try group.status().state == .complete)
        }

        @Test func suspendRecordsOneModifiedEventOnlyWhenItChangedSomething() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "s")
            try group.suspend()
            try group.resume()
            try group.suspend()
            try group.suspend()
            let suspensions = try f.events(group).filter { $0.kind == "modified" && $0.detail == "suspended" }
            #expect(suspensions.count == 1)
        }

        @Test func suspendOnCancelledGroupThrowsNotFound() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.cancel()
            expectError(.notFound) { try group.suspend() }
        }

        @Test func resumeQueuesASuspendedGroupWithFiles() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(2, prefix: "r")
            try group.resume()
            let status = try group.status()
            #expect(status.state == .queued)
            #expect(status.flags == [.groupIncomplete])
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "resumed"])
        }

        @Test func resumeOnQueuedGroupIsANoOp() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "r")
            try group.resume()
            let before = try f.digest()
            try group.resume()
            #expect(try f.digest() == before)
        }

        @Test func resumeOfGroupInErrorClearsTheErrorAndRequeuesErrorFiles() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(2, prefix: "err")
            try group.resume()
            let claim = try #require(try transferNextFile(f.manager, content: operationContent, partial: true))
            #expect(try TransferLedger(core: f.manager.core).fail(claim.fileRowID, error: QueueError(.transfer, "HTTP 403", httpStatus: 403), retries: 0))
            #expect(try group.status().state == .error)
            #expect(try f.fileStates(job) == ["error", "queued"])

            try group.resume()
            let status = try group.status()
            #expect(status.state == .queued)
            #expect(status.flags == [.groupIncomplete])
            #expect(status.lastError == nil)
            #expect(status.errorCount == 1)
            #expect(try job.status().lastError == nil)
            #expect(!(try job.status().flags.contains(.jobError)))
            #expect(try f.fileStates(job) == ["queued", "queued"])
            #expect(try job.file(at: 0).bytesDone == 50)  // committed partial bytes are kept for the retry
            #expect(
                try query(
                    f.database,
                    """
                    SELECT last_error_code, last_error_message, last_error_http, last_error_retries, last_error_file_id FROM groups
                    """) == [["NULL", "NULL", "NULL", "NULL", "NULL"]])
        }

        @Test func aFileRefusedItsFailureAfterItsGroupWentToErrorIsReleasedForTheResume() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(2, prefix: "two")
            try group.resume()
            let ledger = TransferLedger(core: f.manager.core)
            let first = try #require(try ledger.claimNextFile(filesPerGroup: 2))
            let second = try #require(try ledger.claimNextFile(filesPerGroup: 2))
            let full = QueueError(.fileSystem, "disk full", systemError: ENOSPC)
            #expect(try ledger.fail(first.fileRowID, error: full, retries: 0))
            #expect(try !ledger.fail(second.fileRowID, error: full, retries: 0))
            #expect(try f.fileStates(job) == ["error", "transferring"])
            #expect(try ledger.release(second.fileRowID) == .queued)
            #expect(try group.status().lastError?.fileIndex == 0)

            try group.resume()
            #expect(try f.fileStates(job) == ["queued", "queued"])
            #expect(try ledger.claimNextFile(filesPerGroup: 2)?.fileRowID == first.fileRowID)
            #expect(try ledger.claimNextFile(filesPerGroup: 2)?.fileRowID == second.fileRowID)
        }

        @Test func resumeOnGroupWithNothingLeftThrowsEmptyAndStaysSuspended() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.createJob()
            let before = try f.digest()
            let error = expectError(.empty) { try group.resume() }
            #expect(error?.value == group.id.description)
            #expect(error?.hresult == 0x8020_0003)
            #expect(try group.status().state == .suspended)
            #expect(try f.digest() == before)
        }

        @Test func resumeOnGroupWithoutJobsThrowsEmpty() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            expectError(.empty) { try group.resume() }
            #expect(try group.status().state == .suspended)
        }

        @Test func resumeOnCompleteGroupThrowsEmptyAndStaysComplete() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.completeGroup(2, prefix: "c")
            let before = try f.digest()
            expectError(.empty) { try group.resume() }
            #expect(try group.status().state == .complete)
            #expect(try f.digest() == before)
        }

        @Test func resumeWhenOnlyACancelledJobHadFilesThrowsEmpty() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(2, prefix: "gone")
            try job.cancel()
            expectError(.empty) { try group.resume() }
            #expect(try group.status().state == .suspended)
        }

        @Test func resumeOnCancelledGroupThrowsNotFound() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "x")
            try group.cancel()
            expectError(.notFound) { try group.resume() }
        }

        @Test func switchToForegroundMakesThePriorityForeground() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps(priority: .low))
            let job = try group.createJob()
            try group.switchToForeground()
            #expect(try group.properties().priority == .foreground)
            #expect(try group.status().flags == [.groupSuspended, .groupIncomplete, .groupForeground])
            #expect(try job.status().flags.contains(.jobForeground))
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "foreground"])
        }

        @Test func switchToForegroundKeepsTheGroupsState() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "fg")
            try group.resume()
            try group.switchToForeground()
            #expect(try group.status().state == .queued)
            #expect(try group.status().flags == [.groupIncomplete, .groupForeground])
        }

        @Test func switchToForegroundOnForegroundGroupChangesNothing() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps(priority: .foreground))
            let before = try f.digest()
            try group.switchToForeground()
            #expect(try f.digest() == before)
        }

        @Test func switchToForegroundGroupIsClaimedBeforeOlderBackgroundGroups() throws {
            let f = try OperationsFixture()
            let (older, _) = try f.groupWithFiles(1, prefix: "older")
            let (newer, _) = try f.groupWithFiles(1, prefix: "newer")
            try older.resume()
            try newer.resume()
            try newer.switchToForeground()
            let claim = try #require(try TransferLedger(core: f.manager.core).claimNextFile())
            #expect(claim.groupID == newer.id)
        }

        @Test func switchToForegroundOnCancelledGroupThrowsNotFound() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.cancel()
            expectError(.notFound) { try group.switchToForeground() }
        }
    }
}
