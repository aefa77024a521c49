import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

private let validSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

@Suite("Atomicity: jobs and files", .alone)
struct JobAtomicityTests {
    @Test(arguments: Backend.allCases)
    func createJobWithTheIDOfAJobInAnotherGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let other = try await queue.manager.createGroup(properties: GroupProperties(displayName: "other"))
            let error = try await queue.expectNothingChanged(throwing: .alreadyExists) { try await other.addJob(id: queue.job.id) }
            #expect(error?.value == queue.job.id.description)
            #expect(try await other.jobIDs().isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func createJobWithTheIDOfACancelledJobChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.cancel()
            try await queue.expectNothingChanged(throwing: .alreadyExists) { try await queue.group.addJob(id: queue.job.id) }
        }
    }

    @Test(arguments: Backend.allCases)
    func createJobInACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.group.addJob() }
        }
    }

    @Test(arguments: Backend.allCases)
    func lookingUpAnUnknownOrCancelledJobChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let unknown = JobID()
            let error = try await queue.expectNothingChanged(throwing: .notFound) { _ = try await queue.group.openJob(unknown) }
            #expect(error?.value == unknown.description)
            let other = try await queue.manager.createGroup(properties: GroupProperties(displayName: "other"))
            try await queue.expectNothingChanged(throwing: .notFound) { _ = try await other.openJob(queue.job.id) }
            try await queue.job.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { _ = try await queue.group.openJob(queue.job.id) }
        }
    }

    @Test(arguments: Backend.allCases, [2, 3, -1, Int.max])
    func fileAtAnIndexOutsideTheJobIsNotFoundAndChangesNothing(backend: Backend, index: Int) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(2))
            let error = try await queue.expectNothingChanged(throwing: .notFound) { _ = try await queue.job.file(at: index) }
            #expect(error?.value == "\(index)")
        }
    }

    @Test(arguments: Backend.allCases)
    func fileOfACancelledJobIsNotFoundAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(2))
            try await queue.job.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { _ = try await queue.job.file(at: 0) }
            try await queue.expectNothingChanged(throwing: .notFound) { _ = try await queue.job.fileCount() }
        }
    }

    @Test(arguments: Backend.allCases)
    func cancellingACancelledJobChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(2))
            try await queue.job.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.job.cancel() }
        }
    }

    @Test(arguments: Backend.allCases)
    func cancellingAJobOfACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(2))
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.job.cancel() }
        }
    }

    @Test(arguments: Backend.allCases)
    func addFilesWithAnInvalidFileChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(1, prefix: "existing"))
            try await queue.expectNothingChanged(throwing: .invalidArgument) {
                try await queue.job.addFiles([FileSpec(remote: "gopher://example.test/a", local: queue.scratch.path("a"))])
            }
            #expect(try await queue.job.fileCount() == 1)
        }
    }

    @Test(arguments: Backend.allCases, ["scheme", "relative", "sha256", "sizeHint", "duplicate"])
    func addFilesWhoseOnlyLastFileIsInvalidChangesNothing(backend: Backend, defect: String) async throws {
        try await AtomicityFixture.with(backend) { queue in
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
            let error = try await queue.expectNothingChanged(throwing: .invalidArgument) { try await queue.job.addFiles(batch) }
            #expect(error?.message.contains("4") == true)
            #expect(try await queue.job.fileCount() == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func addFilesWhoseLastFileIsInAMissingDirectoryChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let batch = queue.scratch.specs(3) + [FileSpec(remote: "https://example.test/x", local: queue.scratch.path("gone/x"))]
            try await queue.expectNothingChanged(throwing: .accessDenied) { try await queue.job.addFiles(batch) }
        }
    }

    @Test(arguments: Backend.allCases)
    func addFilesWhoseLastFileCollidesWithALivePathChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let other = try await queue.manager.createGroup(properties: GroupProperties(displayName: "holder")).addJob()
            try await other.addFiles([FileSpec(remote: "https://example.test/held", local: queue.scratch.path("held"))])
            try await queue.job.addFiles(queue.scratch.specs(1, prefix: "mine"))
            let batch = queue.scratch.specs(5) + [FileSpec(remote: "https://example.test/held2", local: queue.scratch.path("held"))]
            let error = try await queue.expectNothingChanged(throwing: .invalidArgument) { try await queue.job.addFiles(batch) }
            #expect(error?.value == queue.scratch.path("held"))
            #expect(try await queue.job.fileCount() == 1)
            #expect(try await queue.manager.rows("SELECT count(*) FROM files") == [["2"]])
        }
    }

    @Test(arguments: Backend.allCases)
    func addFilesCollidingOnItsLastFileLeavesACompleteGroupComplete(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles([FileSpec(remote: "https://example.test/a", local: queue.scratch.path("a.bin"))])
            try await queue.group.resume()
            try await queue.manager.transferNextFile(content: [7, 7, 7])
            #expect(try await queue.group.status().state == .complete)
            let batch = queue.scratch.specs(3) + [FileSpec(remote: "https://example.test/again", local: queue.scratch.path("a.bin"))]
            try await queue.expectNothingChanged(throwing: .invalidArgument) { try await queue.job.addFiles(batch) }
            #expect(try await queue.group.status().state == .complete)
        }
    }

    @Test(arguments: Backend.allCases)
    func addFilesToACancelledJobChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.job.addFiles(queue.scratch.specs(2)) }
        }
    }

    @Test(arguments: Backend.allCases)
    func addFilesToAJobOfACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.job.addFiles(queue.scratch.specs(2)) }
        }
    }
}
