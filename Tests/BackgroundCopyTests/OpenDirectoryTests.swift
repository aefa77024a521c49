import Testing
@testable import BackgroundCopy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory's fsyncs are shared by the files that need one at the same time; a file on its
/// own has its directory fsynced on the file thread it is already on.
@Suite("A destination directory's shared fsyncs")
struct OpenDirectoryTests {
    /// Counts directory fsyncs; holds each one until the gate opens, or fails them all.
    final class GatedFileSystem: PassThroughFileSystem, Sendable {
        let fsyncs: GatedCall

        init(gated: Bool = false, failing: Bool = false) {
            fsyncs = GatedCall(gated: gated, failing: failing)
        }

        func fsyncDirectory(_ directory: OpenFile) throws(QueueError) {
            try fsyncs.pass("fsync", path: directory.path)
            try PosixFileSystem().fsyncDirectory(directory)
        }
    }

    static func open(_ fileSystem: GatedFileSystem, _ scratch: Scratch) throws -> OpenDirectory {
        OpenDirectory(file: try fileSystem.openDirectory(scratch.directory), fileSystem: fileSystem)
    }

    @Test func aCallerAloneIsFsyncedAtOnceOnItsOwnThread() throws {
        let (scratch, fileSystem) = (Scratch(), GatedFileSystem())
        let directory = try Self.open(fileSystem, scratch)
        let outcome = try #require(directory.syncIfIdle())
        #expect(throws: Never.self) { try outcome.get() }
        #expect(fileSystem.fsyncs.calls == 1)
    }

    @Test func aFailedFsyncIsTheCallersOutcome() throws {
        let (scratch, fileSystem) = (Scratch(), GatedFileSystem(failing: true))
        let directory = try Self.open(fileSystem, scratch)
        let outcome = try #require(directory.syncIfIdle())
        #expect(throws: QueueError.self) { try outcome.get() }
        #expect(throws: Never.self) { if case .failure(let error) = outcome { #expect(error.systemError == EIO) } }
    }

    @Test func whileAnFsyncRunsACallerWaitsForTheNextOneThatStartsAfterIt() async throws {
        let (scratch, fileSystem) = (Scratch(), GatedFileSystem(gated: true))
        let directory = try Self.open(fileSystem, scratch)
        let first = Task { try await directory.sync() }
        #expect(try await eventually { fileSystem.fsyncs.calls == 1 })
        #expect(directory.syncIfIdle() == nil, "an fsync runs: the caller must wait for the next one")
        let second = Task { try await directory.sync() }
        fileSystem.fsyncs.open()
        try await first.value
        try await second.value
        #expect(fileSystem.fsyncs.calls == 2, "the second caller was covered by an fsync of its own")
        #expect(directory.syncIfIdle() != nil, "idle again: the next caller fsyncs at once")
        #expect(fileSystem.fsyncs.calls == 3)
    }
}
