import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Atomicity: engine steps on a file no longer claimed", .alone)
struct LedgerAtomicityTests {
    @Test(arguments: Backend.allCases)
    func checkpointAfterTheGroupWasSuspendedIsRefusedAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let claim = try await queue.claimedFile()
            try await queue.group.suspend()
            let accepted = try await queue.expectNothingChanged {
                try await queue.ledger.checkpoint(claim.fileRowID, bytesDone: 3, bytesTotal: 4, validator: "\"v2\"", progressAbove: 0)
            }
            #expect(accepted == false)
            #expect(try await queue.job.file(at: 0).bytesDone == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func checkpointAfterTheGroupWasCancelledIsRefusedAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let claim = try await queue.claimedFile()
            try await queue.group.cancel()
            let accepted = try await queue.expectNothingChanged {
                try await queue.ledger.checkpoint(claim.fileRowID, bytesDone: 3, bytesTotal: 4, validator: nil, progressAbove: 0)
            }
            #expect(accepted == false)
        }
    }

    @Test(arguments: Backend.allCases)
    func beginFinalizingAfterTheJobWasCancelledIsRefusedAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let claim = try await queue.claimedFile()
            try await queue.job.cancel()
            let accepted = try await queue.expectNothingChanged { try await queue.ledger.beginFinalizing(claim.fileRowID, bytesTotal: 4) }
            #expect(accepted == false)
        }
    }

    @Test(arguments: Backend.allCases)
    func failAfterTheGroupWasSuspendedIsRefusedAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let claim = try await queue.claimedFile()
            try await queue.group.suspend()
            let accepted = try await queue.expectNothingChanged {
                try await queue.ledger.fail(claim.fileRowID, error: QueueError(.transfer, "HTTP 404", httpStatus: 404), retries: 0)
            }
            #expect(accepted == false)
            #expect(try await queue.group.status().state == .suspended)
        }
    }

    @Test(arguments: Backend.allCases)
    func aTransientFailureAfterAnotherFileFailedTheGroupLeavesTheGroupItsError(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles([
                FileSpec(remote: "https://example.test/a", local: queue.scratch.path("a.bin")),
                FileSpec(remote: "https://example.test/b", local: queue.scratch.path("b.bin")),
            ])
            try await queue.group.resume()
            let first = try #require(try await queue.ledger.claimNextFile(filesPerGroup: 2, foregroundOnly: false, alsoGroup: nil))
            let second = try #require(try await queue.ledger.claimNextFile(filesPerGroup: 2, foregroundOnly: false, alsoGroup: nil))
            #expect(try await queue.ledger.fail(first.fileRowID, error: QueueError(.transfer, "HTTP 404", httpStatus: 404), retries: 0))
            let reset = QueueError(.transfer, "connection reset", systemError: ECONNRESET, isTransient: true)
            _ = try await queue.ledger.retryLater(second.fileRowID, error: reset) { _ in .seconds(1) }
            let status = try await queue.group.status()
            #expect(status.state == .error)
            #expect(status.lastError?.error.httpStatus == 404, "the error that stopped the group: \(String(describing: status.lastError))")
            #expect(status.lastError?.fileIndex == 0)
            #expect(try await queue.job.file(at: 1).state == .queued, "the other file waits, queued")
        }
    }

    @Test(arguments: Backend.allCases)
    func completingAFileThatIsNotFinalizingIsInvalidStateAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let claim = try await queue.claimedFile()
            let error = try await queue.expectNothingChanged(throwing: .invalidState) { try await queue.ledger.complete(claim.fileRowID) }
            #expect(error?.value == "\(claim.fileRowID)")
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .invalidState) { try await queue.ledger.complete(claim.fileRowID) }
        }
    }

    @Test(arguments: Backend.allCases)
    func releasingADiscardedFileChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let claim = try await queue.claimedFile()
            try await queue.group.cancel()
            try await queue.expectNothingChanged { try await queue.ledger.release(claim.fileRowID, bytesDone: nil) }
            #expect(try await queue.manager.rows("SELECT state FROM files") == [["discarded"]])
        }
    }

    @Test(arguments: Backend.allCases)
    func claimingWithNothingQueuedChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(2))
            let claim = try await queue.expectNothingChanged { try await queue.ledger.claimNextFile() }
            #expect(claim == nil)
        }
    }
}
