import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Large `addFiles` batches: a directory holding many of the batch's files is listed once
/// instead of asked about each file, and files go in by multi-row inserts; neither changes what
/// is refused, what the error names, or that a refused batch leaves nothing.
@Suite("Validation: large batches in one directory", .alongside)
struct BatchValidationTests {
    private let scratch = Scratch()

    private func job() throws -> (QueueManager, Job) {
        let manager = try scratch.open()
        let job = try manager.createGroup(properties: GroupProperties(displayName: "batch")).createJob()
        return (manager, job)
    }

    /// Runs `call`, which must throw `code` naming `value` and file `index`, and change no row.
    private func expectRefused(_ code: QueueError.Code, value: String, index: Int, _ call: () throws -> Void) throws {
        let before = try tableDigest(scratch.database)
        do {
            try call()
            Issue.record("the batch was accepted")
        } catch let error as QueueError {
            #expect(error.code == code, "\(error)")
            #expect(error.value == value, "\(error)")
            #expect(error.message.hasPrefix("file \(index)"), "\(error)")
        }
        #expect(try tableDigest(scratch.database) == before, "a refused batch changed the database")
    }

    @Test func aSymbolicLinkAmongTwentyFilesOfOneDirectoryIsRefusedByItsIndex() throws {
        let (_, job) = try job()
        let link = scratch.path("file13")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: scratch.path("elsewhere"))
        try expectRefused(.invalidArgument, value: link, index: 13) { try job.addFiles(scratch.specs(20)) }
    }

    @Test func aDirectoryAmongTwentyFilesOfOneDirectoryIsRefusedByItsIndex() throws {
        let (_, job) = try job()
        try FileManager.default.createDirectory(atPath: scratch.path("file7"), withIntermediateDirectories: false)
        try expectRefused(.invalidArgument, value: scratch.path("file7"), index: 7) { try job.addFiles(scratch.specs(20)) }
    }

    @Test func existingRegularFilesAmongTwentyAreAcceptedInOrder() throws {
        let (_, job) = try job()
        for index in [0, 9, 19] { scratch.write("file\(index)", [UInt8(index)]) }
        try job.addFiles(scratch.specs(20))
        #expect(try job.files().map(\.local) == scratch.specs(20).map(\.local))
    }

    @Test func namesAreComparedByTheirBytesNotAsEquivalentText() throws {
        // "é" precomposed (U+00E9) and decomposed (e + U+0301) are equal Swift strings but two names.
        let (_, job) = try job()
        let precomposed = scratch.path("caf\u{E9}")
        let decomposed = scratch.path("cafe\u{301}")
        try FileManager.default.createSymbolicLink(atPath: precomposed, withDestinationPath: scratch.path("elsewhere"))
        try job.addFiles(scratch.specs(10) + [FileSpec(remote: "https://example.test/d", local: decomposed)])
        #expect(try job.fileCount() == 11)
        try expectRefused(.invalidArgument, value: precomposed, index: 10) {
            try job.addFiles(scratch.specs(10, prefix: "more") + [FileSpec(remote: "https://example.test/p", local: precomposed)])
        }
    }

    @Test(arguments: [3, 37, 44])
    func aLocalPathTakenByALiveFileIsNamedWhereverItFallsInTheInserts(index: Int) throws {
        let (manager, job) = try job()
        let taken = scratch.path("taken.bin")
        try manager.createGroup(properties: GroupProperties(displayName: "holder")).createJob()
            .addFiles([FileSpec(remote: "https://example.test/t", local: taken)])
        var batch = scratch.specs(45)
        batch[index] = FileSpec(remote: "https://example.test/t", local: taken)
        try expectRefused(.invalidArgument, value: taken, index: index) { try job.addFiles(batch) }
        #expect(try job.fileCount() == 0)
    }

    @Test func positionsContinueAcrossBatchesOfEverySize() throws {
        let (_, job) = try job()
        let first = scratch.specs(5, prefix: "a")
        let second = scratch.specs(100, prefix: "b")
        try job.addFiles(first)
        try job.addFiles(second)
        #expect(try job.files().map(\.local) == (first + second).map(\.local))
        #expect(try job.file(at: 104).local == second[99].local)
    }

    @Test func theListingNamesEachEntryWithItsKindAndStopsAtTheLimit() throws {
        scratch.write("plain", [1])
        try FileManager.default.createDirectory(atPath: scratch.path("sub"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: scratch.path("link"), withDestinationPath: "plain")
        let listed = try #require(try PosixFileSystem().entries(ofDirectory: scratch.directory, ifAtMost: 1 << 20))
        let kinds = Dictionary(listed.map { (String(decoding: $0.name, as: UTF8.self), $0.kind) }, uniquingKeysWith: { first, _ in first })
        #expect(kinds["plain"] == .regular)
        #expect(kinds["sub"] == .directory)
        #expect(kinds["link"] == .symbolicLink)
        #expect(try PosixFileSystem().entries(ofDirectory: scratch.directory, ifAtMost: 0) == nil)
        #expect(try PosixFileSystem().entries(ofDirectory: scratch.path("link"), ifAtMost: 1 << 20) == nil, "a link is not listed")
    }
}
