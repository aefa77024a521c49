import Foundation
import Synchronization
import Testing
@testable import BackgroundCopy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
import TestScheduling
#endif

/// A transport for the `gated` scheme that sends `size` patterned bytes: the first half at once,
/// the rest only once ``open`` is set, so a test can act while a transfer is half done.
final class GatedTransport: Transport {
    let size: Int
    let halfway = Atomic<Bool>(false)
    let open = Atomic<Bool>(false)

    init(size: Int) { self.size = size }

    func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError) {
        let bytes = pattern(size)
        try await sink.begin(at: 0, total: UInt64(size), validator: "\"gated\"")
        try await sink.write(bytes[0..<(size / 2)])
        halfway.store(true, ordering: .relaxed)
        while !open.load(ordering: .relaxed) {
            guard !Task.isCancelled else { throw TransferSink.stopped }
            try? await Task.sleep(for: .milliseconds(10))
        }
        try await sink.write(bytes[(size / 2)...])
    }
}

@Suite("Symlink safety: no link is followed where the file is written", .alone)
struct SymlinkSafetyTests {
    /// `dest` (where files go), `moved` (where `dest` is moved to) and `outside` (where a link
    /// put in its place would lead), all in the scratch directory.
    private static func directories(_ scratch: Scratch) throws -> (dest: String, moved: String, outside: String) {
        let names = (scratch.path("dest"), scratch.path("moved"), scratch.path("outside"))
        for directory in [names.0, names.2] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        return names
    }

    /// Moves `dest` to `moved` and puts a symbolic link to `outside` in its place.
    private static func swap(_ paths: (dest: String, moved: String, outside: String)) throws {
        try FileManager.default.moveItem(atPath: paths.dest, toPath: paths.moved)
        try FileManager.default.createSymbolicLink(atPath: paths.dest, withDestinationPath: paths.outside)
    }

    private static func contents(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test func aLocalPathWhoseDirectoryPassesThroughASymlinkIsRefusedAndChangesNothing() throws {
        let scratch = Scratch()
        let paths = try Self.directories(scratch)
        let link = scratch.path("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: paths.outside)
        let manager = try scratch.open()
        let job = try manager.createGroup(properties: GroupProperties(displayName: "links")).createJob()
        let before = try tableDigest(scratch.database)
        let local = "\(link)/a.bin"
        do {
            try job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
            Issue.record("a path through a symbolic link was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.value == local)
            #expect(error.message.contains("symbolic link") && error.message.contains(paths.outside), "\(error.message)")
        }
        #expect(try tableDigest(scratch.database) == before)
        try job.addFiles([FileSpec(remote: "https://example.test/a", local: "\(paths.outside)/a.bin")])
    }

    @Test func aDirectorySwappedForASymlinkBeforeTheTransferStartsFailsTheFileAndNothingIsWritten() async throws {
        let scratch = Scratch()
        let paths = try Self.directories(scratch)
        let manager = try scratch.open(scratch.engineConfiguration())
        let group = try await manager.createGroup(properties: quickRetries("swapped early"))
        try await group.createJob().addFiles([FileSpec(remote: scratch.source("source.bin", size: 100_000), local: "\(paths.dest)/out.bin")])
        try Self.swap(paths)
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually { try group.status().state == .error })
        await engine.stop()
        let failure = try await #require(try group.status().lastError)
        #expect(failure.error.systemError == ELOOP, "\(failure.error)")
        #expect(failure.error.message.contains("symbolic link"), "\(failure.error.message)")
        #expect(Self.contents(paths.outside).isEmpty, "nothing written through the link: \(Self.contents(paths.outside))")
        #expect(Self.contents(paths.moved).isEmpty)
    }

    @Test func aDirectorySwappedForASymlinkMidTransferStillGetsTheFileAndTheLinkTargetNothing() async throws {
        let scratch = Scratch()
        let paths = try Self.directories(scratch)
        let transport = GatedTransport(size: 300_000)
        var configuration = scratch.engineConfiguration()
        configuration.allowedSchemes.insert("gated")
        configuration.transports["gated"] = transport
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("swapped midway"))
        try await group.createJob().addFiles([FileSpec(remote: "gated://source/out.bin", local: "\(paths.dest)/out.bin")])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(await eventually { transport.halfway.load(ordering: .relaxed) })
        try Self.swap(paths)
        transport.open.store(true, ordering: .relaxed)
        #expect(try await eventually { try group.status().state == .complete })
        await engine.stop()
        #expect(Self.contents(paths.outside).isEmpty, "nothing written through the link: \(Self.contents(paths.outside))")
        #expect(Self.contents(paths.moved) == ["out.bin"], "the file went to the directory that was opened")
        #expect(FileManager.default.contents(atPath: "\(paths.moved)/out.bin").map(Array.init) == pattern(300_000))
    }

    @Test func aSymlinkPlantedAtTheFinalPathIsReplacedByTheFileNotFollowed() async throws {
        let scratch = Scratch()
        let paths = try Self.directories(scratch)
        let transport = GatedTransport(size: 50_000)
        var configuration = scratch.engineConfiguration()
        configuration.allowedSchemes.insert("gated")
        configuration.transports["gated"] = transport
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("planted"))
        let local = "\(paths.dest)/out.bin"
        try await group.createJob().addFiles([FileSpec(remote: "gated://source/out.bin", local: local)])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(await eventually { transport.halfway.load(ordering: .relaxed) })
        let victim = "\(paths.outside)/victim.bin"
        scratch.write("outside/victim.bin", [1, 2, 3])
        try FileManager.default.createSymbolicLink(atPath: local, withDestinationPath: victim)
        transport.open.store(true, ordering: .relaxed)
        #expect(try await eventually { try group.status().state == .complete })
        await engine.stop()
        #expect(FileManager.default.contents(atPath: victim).map(Array.init) == [1, 2, 3], "the link's target is untouched")
        #expect(try PosixFileSystem().kind(of: local) == .regular, "the rename replaced the link itself")
        #expect(FileManager.default.contents(atPath: local).map(Array.init) == pattern(50_000))
    }
}
