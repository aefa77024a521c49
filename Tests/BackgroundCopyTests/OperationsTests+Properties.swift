import Foundation
import Testing
@testable import BackgroundCopy

// MARK: - properties / setProperties

extension OperationsTests {
    @Suite("properties / setProperties")
    struct Properties {
        @Test func createGroupStoresBITSDefaults() throws {
            let f = try OperationsFixture()
            let properties = try f.manager.createGroup(properties: GroupProperties(displayName: "defaults")).properties()
            #expect(properties == GroupProperties(displayName: "defaults"))
            #expect(properties.priority == .normal)
            #expect(properties.notifyFlags == [.groupDone, .error])
            #expect(properties.retryDelay == .seconds(600))
            #expect(properties.noProgressTimeout == .seconds(14 * 24 * 3600))
            #expect(properties.httpHeaders.isEmpty)
        }

        @Test func setPropertiesRoundTripsEveryFieldIncludingHeaders() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let wanted = GroupProperties(
                displayName: "Nightly models ✓",
                description: "line one\n\tindented line two",
                priority: .high,
                notifyFlags: [.fileDone, .jobDone, .groupDone, .error, .progress, .modification],
                retryDelay: .milliseconds(5_250),
                noProgressTimeout: .zero,
                httpHeaders: [
                    HTTPHeader(name: "X-Client", value: "bgcopy/1.0"),
                    HTTPHeader(name: "Accept", value: "application/octet-stream; q=1, */*: q=0.1"),
                    HTTPHeader(name: "X-Padded", value: "  two leading spaces"),
                    HTTPHeader(name: "X-Empty", value: ""),
                    HTTPHeader(name: "X-Tab", value: "a\tb"),
                ])
            try group.setProperties(wanted)
            #expect(try group.properties() == wanted)
            #expect(try f.manager.group(group.id).properties() == wanted)
        }

        @Test func setPropertiesSurvivesReopeningTheQueue() throws {
            let scratch = Scratch()
            let id = GroupID()
            let wanted = GroupProperties(displayName: "persisted", priority: .low, httpHeaders: [HTTPHeader(name: "X-A", value: "1")])
            do {
                let manager = try scratch.open()
                try manager.createGroup(id: id, properties: operationProps()).setProperties(wanted)
            }
            #expect(try scratch.open().group(id).properties() == wanted)
        }

        @Test func setPropertiesRecordsAModifiedEvent() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.setProperties(operationProps("renamed"))
            #expect(try f.events(group).last.map { [$0.kind, $0.detail] } == ["modified", "properties"])
        }

        static let invalid: [GroupProperties] = [
            GroupProperties(displayName: ""),
            GroupProperties(displayName: String(repeating: "x", count: 257)),
            GroupProperties(displayName: "ok", description: String(repeating: "d", count: 1025)),
            GroupProperties(displayName: "ok", description: "nul\u{0}"),
            GroupProperties(displayName: "ok", notifyFlags: NotifyFlags(rawValue: 0x80)),
            GroupProperties(displayName: "ok", retryDelay: .seconds(1)),
            GroupProperties(displayName: "ok", retryDelay: .seconds(7 * 24 * 3600 + 1)),
            GroupProperties(displayName: "ok", noProgressTimeout: .seconds(-1)),
            GroupProperties(displayName: "ok", noProgressTimeout: .seconds(365 * 24 * 3600 + 1)),
            GroupProperties(displayName: "ok", httpHeaders: [HTTPHeader(name: "Authorization", value: "Bearer secret")]),
            GroupProperties(displayName: "ok", httpHeaders: [HTTPHeader(name: "Bad Name", value: "v")]),
            GroupProperties(displayName: "ok", httpHeaders: [HTTPHeader(name: "X-Split", value: "a\r\nInjected: 1")]),
        ]

        @Test(arguments: invalid)
        func setPropertiesWithInvalidValueThrowsInvalidArgumentAndKeepsTheOldProperties(bad: GroupProperties) throws {
            let f = try OperationsFixture()
            let original = GroupProperties(displayName: "original", description: "kept", httpHeaders: [HTTPHeader(name: "X-Kept", value: "1")])
            let group = try f.manager.createGroup(properties: original)
            let before = try f.digest()
            let error = expectError(.invalidArgument) { try group.setProperties(bad) }
            #expect(error?.value != nil)
            #expect(try f.digest() == before)
            #expect(try group.properties() == original)
        }

        @Test(arguments: invalid)
        func createGroupWithInvalidPropertiesThrowsInvalidArgument(bad: GroupProperties) throws {
            let f = try OperationsFixture()
            let before = try f.digest()
            expectError(.invalidArgument) { try f.manager.createGroup(properties: bad) }
            #expect(try f.digest() == before)
        }

        @Test func setPropertiesOnCancelledGroupThrowsNotFound() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.cancel()
            expectError(.notFound) { try group.setProperties(operationProps("late")) }
            expectError(.notFound) { try group.properties() }
        }
    }
}

// MARK: - progress

extension OperationsTests {
    @Suite("progress")
    struct ProgressTests {
        @Test func progressOfAGroupWithoutFilesIsZero() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            try group.createJob()
            let progress = try group.progress()
            #expect(progress == TransferProgress(bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0, filesOfUnknownSize: 0))
            #expect(progress.percent == 0)
        }

        @Test func progressSumsBytesAndFilesOverAllJobs() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let first = try group.createJob()
            let second = try group.createJob()
            try first.addFiles(f.scratch.specs(2, prefix: "a", sizeHint: 100))
            try second.addFiles(f.scratch.specs(1, prefix: "b", sizeHint: 200))
            try group.resume()
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)  // a0: 100 of 100
            try #require(try transferNextFile(f.manager, content: operationContent, partial: true) != nil)  // a1: 50 of 100
            let progress = try group.progress()
            #expect(progress.bytesDone == 150)
            #expect(progress.bytesTotal == 400)
            #expect(progress.filesDone == 1)
            #expect(progress.filesTotal == 3)
            #expect(progress.filesOfUnknownSize == 0)
            #expect(progress.percent == 37)  // by bytes: 150 / 400
            #expect(try group.size() == 400)
            #expect(try first.progress() == TransferProgress(bytesDone: 150, bytesTotal: 200, filesDone: 1, filesTotal: 2, filesOfUnknownSize: 0))
            #expect(try second.progress() == TransferProgress(bytesDone: 0, bytesTotal: 200, filesDone: 0, filesTotal: 1, filesOfUnknownSize: 0))
        }

        @Test func progressTotalsAbove4GiBAreNotCapped() throws {
            let f = try OperationsFixture()
            let threeGiB: UInt64 = 3 << 30
            let (group, _) = try f.groupWithFiles(3, prefix: "big", sizeHint: threeGiB)
            let progress = try group.progress()
            #expect(progress.bytesTotal == 9 << 30)
            #expect(progress.bytesTotal > UInt64(UInt32.max))
            #expect(progress.filesOfUnknownSize == 0)
            #expect(progress.percent == 0)
            #expect(try group.size() == 9 << 30)
        }

        @Test func progressPercentUsesBytesAbove4GiB() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let job = try group.createJob()
            // One small file transferred, one 5 GiB file untouched: by bytes that is well under 1 %.
            try job.addFiles([
                FileSpec(remote: "https://example.test/small", local: f.scratch.path("small"), sizeHint: 100),
                FileSpec(remote: "https://example.test/huge", local: f.scratch.path("huge"), sizeHint: 5 << 30),
            ])
            try group.resume()
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)
            let progress = try group.progress()
            #expect(progress.bytesDone == 100)
            #expect(progress.bytesTotal == (5 << 30) + 100)
            #expect(progress.filesDone == 1)
            #expect(progress.percent == 0)
        }

        @Test func progressWithUnknownSizesFallsBackToFilesPercent() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.groupWithFiles(4, prefix: "unknown")
            #expect(try group.progress().filesOfUnknownSize == 4)
            #expect(try group.size() == 0)
            try group.resume()
            try #require(try transferNextFile(f.manager, content: operationContent) != nil)
            let progress = try group.progress()
            #expect(progress.filesOfUnknownSize == 3)
            #expect(progress.bytesTotal == 100)  // only the transferred file's size is known
            #expect(progress.bytesDone == 100)
            #expect(progress.filesDone == 1)
            #expect(progress.percent == 25)  // by files, not 100 % of the known bytes
        }

        @Test func progressOfACompleteGroupIs100Percent() throws {
            let f = try OperationsFixture()
            let (group, _) = try f.completeGroup(3, prefix: "done")
            let progress = try group.progress()
            #expect(progress == TransferProgress(bytesDone: 300, bytesTotal: 300, filesDone: 3, filesTotal: 3, filesOfUnknownSize: 0))
            #expect(progress.percent == 100)
        }

        @Test func progressExcludesCancelledJobs() throws {
            let f = try OperationsFixture()
            let group = try f.manager.createGroup(properties: operationProps())
            let kept = try group.createJob()
            let dropped = try group.createJob()
            try kept.addFiles(f.scratch.specs(1, prefix: "kept", sizeHint: 10))
            try dropped.addFiles(f.scratch.specs(2, prefix: "dropped", sizeHint: 1_000))
            try dropped.cancel()
            #expect(try group.progress() == TransferProgress(bytesDone: 0, bytesTotal: 10, filesDone: 0, filesTotal: 1, filesOfUnknownSize: 0))
        }

        @Test func progressOfCancelledGroupThrowsNotFound() throws {
            let f = try OperationsFixture()
            let (group, job) = try f.groupWithFiles(1, prefix: "p")
            try group.cancel()
            expectError(.notFound) { try group.progress() }
            expectError(.notFound) { try job.progress() }
        }
    }
}
