import Foundation
import Testing
@testable import BackgroundCopy

// MARK: - status

extension OperationsTests {
    @Suite("status")
    struct StatusTests {
        @Test func statusOfSuspendedGroupIsSuspendedAndIncomplete() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(2, prefix: "s")
            let status = try group.status()
            #expect(status.state == .suspended)
            #expect(status.flags == [.groupSuspended, .groupIncomplete])
            #expect(status.currentJobIndex == 0)
            #expect(status.lastError == nil)
            #expect(status.errorCount == 0)
        }

        @Test func statusOfQueuedGroupIsIncompleteOnly() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "q")
            try group.resume()
            let status = try group.status()
            #expect(status.state == .queued)
            #expect(status.flags == [.groupIncomplete])
        }

        @Test func statusOfTransferringGroupIsIncompleteOnly() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "t")
            try group.resume()
            try #require(try transferNextFile(f.manager, content: operationContent, partial: true) != nil)
            let status = try group.status()
            #expect(status.state == .transferring)
            #expect(status.flags == [.groupIncomplete])
            #expect(status.currentJobIndex == 0)
        }

        @Test func statusOfCompleteGroupIsCompleteAndSuspended() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.completeGroup(2, prefix: "c")
            let status = try group.status()
            #expect(status.state == .complete)
            #expect(status.flags == [.groupComplete, .groupSuspended])
            #expect(status.currentJobIndex == nil)
            #expect(status.lastError == nil)
            let jobStatus = try job.status()
            #expect(jobStatus.flags == [.jobComplete, .fileComplete])
            #expect(jobStatus.currentFileIndex == nil)
        }

        @Test func statusOfForegroundGroupHasTheForegroundFlag() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps(priority: .foreground))
            let job = try group.createJob()
            #expect(try group.status().flags == [.groupSuspended, .groupIncomplete, .groupForeground])
            #expect(try job.status().flags.contains(.jobForeground))
        }

        @Test func statusOfBackgroundGroupLacksTheForegroundFlag() throws {
            let f = try OperationsFixture()
            for priority in [Priority.high, .normal, .low] {
                let group = try f.manager.createGroup(properties: operationProps(priority: priority))
                #expect(!(try group.status().flags.contains(.groupForeground)))
            }
        }

        @Test func statusOfGroupInErrorReportsTheLastFailure() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(3, prefix: "e")
            try group.resume()
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)  // e0 complete
            let claim = try #require(try transferNextFile(f.manager, content: operationContent, partial: true))  // e1 partial
            let ledger = TransferLedger(core: f.manager.core)
            let failure = QueueError(.transfer, "HTTP 404 Not Found for e1", httpStatus: 404)
            #expect(try ledger.fail(claim.fileRowID, error: failure, retries: 3))

            let status = try group.status()
            #expect(status.state == .error)
            #expect(status.flags == [.groupError, .groupSuspended, .groupIncomplete])
            #expect(status.currentJobIndex == 0)
            #expect(status.errorCount == 1)
            let last = try #require(status.lastError)
            #expect(last.error.code == .transfer)
            #expect(last.error.message == "HTTP 404 Not Found for e1")
            #expect(last.error.httpStatus == 404)
            #expect(last.error.systemError == nil)
            #expect(last.error.hresult == 0x8019_0194)
            #expect(last.retries == 3)
            #expect(last.fileIndex == 1)

            let jobStatus = try job.status()
            #expect(jobStatus.flags.contains(.jobError))
            #expect(jobStatus.flags.contains(.jobIncomplete))
            #expect(jobStatus.currentFileIndex == 1)
            #expect(jobStatus.lastError == last)
            #expect(try f.fileStates(job) == ["complete", "error", "queued"])
        }

        @Test func statusErrorCountCountsEveryFailureAndKeepsTheLatest() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(1, prefix: "twice")
            let ledger = TransferLedger(core: f.manager.core)
            try group.resume()
            var claim = try #require(try transferNextFile(f.manager, content: operationContent, partial: true))
            #expect(try ledger.fail(claim.fileRowID, error: QueueError(.transfer, "HTTP 500", httpStatus: 500), retries: 1))
            try group.resume()
            claim = try #require(try transferNextFile(f.manager, content: operationContent, partial: true))
            #expect(try ledger.fail(claim.fileRowID, error: QueueError(.transfer, "connection reset", systemError: 104), retries: 7))
            let status = try group.status()
            #expect(status.errorCount == 2)
            #expect(status.lastError?.error.message == "connection reset")
            #expect(status.lastError?.error.systemError == 104)
            #expect(status.lastError?.error.httpStatus == nil)
            #expect(status.lastError?.retries == 7)
        }

        @Test func statusCurrentJobIndexIsTheFirstJobWithWorkLeft() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let first = try group.createJob()
            try group.createJob()  // empty: no work left in it
            let third = try group.createJob()
            try first.addFiles(f.scratch.specs(1, prefix: "one"))
            try third.addFiles(f.scratch.specs(1, prefix: "three"))
            #expect(try group.status().currentJobIndex == 0)
            try group.resume()
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)
            #expect(try group.status().currentJobIndex == 2)
        }

        @Test func statusCurrentJobIndexCountsOnlyLiveJobs() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let first = try group.createJob()
            let second = try group.createJob()
            try first.addFiles(f.scratch.specs(1, prefix: "one"))
            try second.addFiles(f.scratch.specs(1, prefix: "two"))
            try first.cancel()
            #expect(try group.status().currentJobIndex == 0)
        }

        @Test func statusOfGroupWithoutJobsHasNoCurrentJob() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            #expect(try group.status().currentJobIndex == nil)
        }

        @Test func statusOfCancelledGroupThrowsNotFound() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "x")
            try group.cancel()
            expectError(.notFound) { try group.status() }
            expectError(.notFound) { try job.status() }
        }
    }
}

// MARK: - createJob / job(id)

extension OperationsTests {
    @Suite("createJob / job(id)")
    struct Jobs {
        @Test func createJobWithCallerIDCanBeOpened() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let id = JobID()
            let job = try group.createJob(id: id)
            #expect(job.id == id)
            #expect(job.groupID == group.id)
            #expect(try group.job(id) == job)
            #expect(try job.fileCount() == 0)
        }

        @Test func createJobWithTakenIDThrowsAlreadyExists() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let id = JobID()
            try group.createJob(id: id)
            let before = try f.digest()
            let error = expectError(.alreadyExists) { try group.createJob(id: id) }
            #expect(error?.value == id.description)
            #expect(try f.digest() == before)
            #expect(try group.jobs().count == 1)
        }

        @Test func createJobWithIDTakenInAnotherGroupThrowsAlreadyExists() throws {
            let f = try OperationsFixture()
            let id = JobID()
            try f.manager.createGroup(properties: operationProps("first")).createJob(id: id)
            let second = try f.manager.createGroup(properties: operationProps("second"))
            expectError(.alreadyExists) { try second.createJob(id: id) }
            #expect(try second.jobs().isEmpty)
        }

        @Test func createJobWithCancelledJobIDThrowsAlreadyExists() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let id = JobID()
            try group.createJob(id: id).cancel()
            expectError(.alreadyExists) { try group.createJob(id: id) }
        }

        @Test func createJobInCancelledGroupThrowsNotFound() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.cancel()
            let before = try f.digest()
            expectError(.notFound) { try group.createJob() }
            #expect(try f.digest() == before)
        }

        @Test func jobWithUnknownIDThrowsNotFound() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.createJob()
            let unknown = JobID()
            let error = expectError(.notFound) { try group.job(unknown) }
            #expect(error?.value == unknown.description)
        }

        @Test func jobOfAnotherGroupThrowsNotFound() throws {
            let f = try OperationsFixture()
            let owner = try f.manager.createGroup(properties: operationProps("owner"))
            let other = try f.manager.createGroup(properties: operationProps("other"))
            let job = try owner.createJob()
            expectError(.notFound) { try other.job(job.id) }
            #expect(try owner.job(job.id) == job)
        }

        @Test func jobThatWasCancelledThrowsNotFound() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let job = try group.createJob()
            try job.cancel()
            expectError(.notFound) { try group.job(job.id) }
        }
    }
}
