import Foundation
import Testing
@testable import BackgroundCopy

// MARK: - addFiles, file(at:), fileCount

extension OperationsTests {
    @Suite("addFiles, file(at:), fileCount")
    struct Files {
        @Test func addFilesAppendsPositionsAcrossCalls() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let job = try group.createJob()
            try job.addFiles(f.scratch.specs(2, prefix: "first"))
            try job.addFiles(f.scratch.specs(3, prefix: "second"))
            let files = try job.files()
            #expect(files.map(\.index) == [0, 1, 2, 3, 4])
            #expect(files.map(\.local) == ["first0", "first1", "second0", "second1", "second2"].map(f.scratch.path))
            #expect(try job.fileCount() == 5)
            #expect(try job.file(at: 2).remote == "https://example.test/second0")
            #expect(try query(f.database, "SELECT position FROM files ORDER BY id") == [["0"], ["1"], ["2"], ["3"], ["4"]])
        }

        @Test func addFilesStoresEachSpecAsGiven() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let job = try group.createJob()
            let sha = String(repeating: "AB", count: 32)
            try job.addFiles([FileSpec(remote: "https://example.test/a.bin", local: f.scratch.path("a.bin"), sizeHint: 4_096, sha256: sha)])
            let file = try job.file(at: 0)
            #expect(file.index == 0)
            #expect(file.remote == "https://example.test/a.bin")
            #expect(file.local == f.scratch.path("a.bin"))
            #expect(file.sizeHint == 4_096)
            #expect(file.sha256 == sha.lowercased())
            #expect(file.state == .queued)
            #expect(file.bytesTotal == nil)
            #expect(file.bytesDone == 0)
        }

        @Test func addFilesPositionsAreKeptPerJob() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let first = try group.createJob()
            let second = try group.createJob()
            try first.addFiles(f.scratch.specs(3, prefix: "a"))
            try second.addFiles(f.scratch.specs(2, prefix: "b"))
            #expect(try second.files().map(\.index) == [0, 1])
            #expect(try first.fileCount() == 3)
            #expect(try second.fileCount() == 2)
        }

        @Test func addFilesToCompleteGroupMakesItSuspendedAgain() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.completeGroup(1, prefix: "done")
            #expect(try group.status().state == .complete)
            try job.addFiles(f.scratch.specs(1, prefix: "more"))
            let status = try group.status()
            #expect(status.state == .suspended)
            #expect(status.flags == [.groupSuspended, .groupIncomplete])
            #expect(status.currentJobIndex == 0)
            #expect(try query(f.database, "SELECT state, completed_at FROM groups") == [["suspended", "NULL"]])
            try group.resume()
            #expect(try group.status().state == .queued)
        }

        @Test func addFilesToNewJobOfCompleteGroupMakesItSuspendedAgain() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.completeGroup(1, prefix: "done")
            try group.createJob().addFiles(f.scratch.specs(1, prefix: "more"))
            #expect(try group.status().state == .suspended)
        }

        @Test func addFilesToQueuedGroupKeepsItQueued() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "q")
            try group.resume()
            try job.addFiles(f.scratch.specs(1, prefix: "more"))
            #expect(try group.status().state == .queued)
            #expect(try job.fileCount() == 2)
        }

        @Test func addFilesRecordsAModifiedEvent() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(3, prefix: "ev")
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "3 file(s) added"])
        }

        @Test(arguments: ["ftp://example.test/a", "gopher://example.test/a", "javascript:alert(1)"])
        func addFilesWithDisallowedSchemeThrowsInvalidArgumentAndAddsNothing(remote: String) throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let job = try group.createJob()
            let before = try f.digest()
            let batch = f.scratch.specs(2, prefix: "good") + [FileSpec(remote: remote, local: f.scratch.path("bad"))]
            let error = expectError(.invalidArgument) { try job.addFiles(batch) }
            #expect(error?.value == remote)
            #expect(try f.digest() == before)
            #expect(try job.fileCount() == 0)
        }

        @Test(arguments: ["relative/file", "file", "./file"])
        func addFilesWithRelativeLocalPathThrowsInvalidArgument(local: String) throws {
            let f = try OperationsFixture()
            let job = try f.manager.createGroup(properties: operationProps()).createJob()
            let before = try f.digest()
            let error = expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: local)]) }
            #expect(error?.value == local)
            #expect(try f.digest() == before)
        }

        @Test func addFilesWithRelativeRemoteThrowsInvalidArgument() throws {
            let f = try OperationsFixture()
            let job = try f.manager.createGroup(properties: operationProps()).createJob()
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "example.test/a", local: f.scratch.path("a"))]) }
            #expect(try job.fileCount() == 0)
        }

        @Test func addFilesWithTooLongPathThrowsInvalidArgument() throws {
            let f = try OperationsFixture()
            let job = try f.manager.createGroup(properties: operationProps()).createJob()
            let longPath = f.scratch.path(String(repeating: "d/", count: 2_100) + "file")
            let longName = f.scratch.path(String(repeating: "n", count: 221))
            let longRemote = "https://example.test/" + String(repeating: "r", count: 2_200)
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: longPath)]) }
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: longName)]) }
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: longRemote, local: f.scratch.path("a"))]) }
            #expect(try job.fileCount() == 0)
        }

        @Test func addFilesWithLocalPathUsedInTheLiveQueueThrowsInvalidArgument() throws {
            let f = try OperationsFixture()
            let (_, _) = try f.groupWithFiles(1, prefix: "shared")
            let other = try f.manager.createGroup(properties: operationProps("other")).createJob()
            let before = try f.digest()
            let taken = f.scratch.path("shared0")
            let batch = [
                FileSpec(remote: "https://example.test/x", local: f.scratch.path("fresh")),
                FileSpec(remote: "https://example.test/y", local: taken),
            ]
            let error = expectError(.invalidArgument) { try other.addFiles(batch) }
            #expect(error?.value == taken)
            #expect(try f.digest() == before)
            #expect(try other.fileCount() == 0)
        }

        @Test func addFilesWithLocalPathOfACompleteFileThrowsInvalidArgument() throws {
            let f = try OperationsFixture()
            let (_, job) = try f.completeGroup(1, prefix: "kept")
            expectError(.invalidArgument) { try job.addFiles([FileSpec(remote: "https://example.test/again", local: f.scratch.path("kept0"))]) }
        }

        @Test func addFilesWithDuplicateLocalPathInTheBatchThrowsInvalidArgument() throws {
            let f = try OperationsFixture()
            let job = try f.manager.createGroup(properties: operationProps()).createJob()
            let local = f.scratch.path("twice")
            let error = expectError(.invalidArgument) {
                try job.addFiles([FileSpec(remote: "https://example.test/1", local: local), FileSpec(remote: "https://example.test/2", local: local)])
            }
            #expect(error?.value == local)
            #expect(try job.fileCount() == 0)
        }

        @Test func addFilesMayReuseTheLocalPathOfACancelledGroupsFile() throws {
            let f = try OperationsFixture()
            let (first, _) = try f.groupWithFiles(1, prefix: "reused")
            try first.cancel()
            let job = try f.manager.createGroup(properties: operationProps("second")).createJob()
            try job.addFiles([FileSpec(remote: "https://example.test/again", local: f.scratch.path("reused0"))])
            #expect(try job.fileCount() == 1)
        }

        @Test func addFilesIntoMissingDirectoryThrowsAccessDenied() throws {
            let f = try OperationsFixture()
            let job = try f.manager.createGroup(properties: operationProps()).createJob()
            let before = try f.digest()
            let local = f.scratch.path("missing/file")
            let error = expectError(.accessDenied) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: local)]) }
            #expect(error?.value == local)
            #expect(error?.hresult == 0x8007_0005)
            #expect(try f.digest() == before)
        }

        @Test func addFilesOutsideTheAllowedRootsThrowsAccessDenied() throws {
            var configuration = QueueManager.Configuration()
            let scratch = Scratch()
            try FileManager.default.createDirectory(atPath: scratch.path("inside"), withIntermediateDirectories: false)
            configuration.allowedRoots = [scratch.path("inside")]
            let manager = try scratch.open(configuration)
            let job = try manager.createGroup(properties: operationProps()).createJob()
            expectError(.accessDenied) { try job.addFiles([FileSpec(remote: "https://example.test/a", local: scratch.path("outside"))]) }
            try job.addFiles([FileSpec(remote: "https://example.test/a", local: scratch.path("inside/ok"))])
            #expect(try job.fileCount() == 1)
        }

        @Test func addFilesToCancelledJobThrowsNotFound() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let job = try group.createJob()
            try job.cancel()
            expectError(.notFound) { try job.addFiles(f.scratch.specs(1, prefix: "late")) }
        }

        @Test func fileAtIndexEqualToCountThrowsNotFound() throws {
            let f = try OperationsFixture()
            let (_, job) = try f.groupWithFiles(3, prefix: "idx")
            #expect(try job.fileCount() == 3)
            #expect(try job.file(at: 2).local == f.scratch.path("idx2"))
            let error = expectError(.notFound) { try job.file(at: 3) }
            #expect(error?.value == "3")
            #expect(error?.hresult == 0x8100_1004)
            expectError(.notFound) { try job.file(at: 100) }
            expectError(.notFound) { try job.file(at: -1) }
        }

        @Test func fileAtZeroOfAnEmptyJobThrowsNotFound() throws {
            let f = try OperationsFixture()
            let job = try f.manager.createGroup(properties: operationProps()).createJob()
            #expect(try job.fileCount() == 0)
            expectError(.notFound) { try job.file(at: 0) }
        }
    }
}
