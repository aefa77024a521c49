import Crypto
import Foundation
import Testing
@testable import BackgroundCopy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The digest reads a temp file back on a file thread while the file grows; asking it to follow
/// never waits for that reading, and what it finally gives is the hash of every byte asked for.
@Suite("The digest that follows a growing temp file")
struct FollowingDigestTests {
    /// Holds every read until the gate opens, or fails them all.
    final class GatedFileSystem: PassThroughFileSystem, Sendable {
        let reads: GatedCall

        init(gated: Bool = false, failing: Bool = false) {
            reads = GatedCall(gated: gated, failing: failing)
        }

        func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(QueueError) -> Int {
            try reads.pass("read", path: file.path)
            return try PosixFileSystem().read(file, into: buffer, at: offset)
        }
    }

    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed }
    }

    static func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
        try handle.close()
    }

    @Test func theHashOfAFileFollowedAsItGrowsIsTheHashOfTheWholeFile() async throws {
        let scratch = Scratch()
        let path = scratch.path("growing.part")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let digest = FollowingDigest(fileSystem: PosixFileSystem(), path: path)
        var whole: [UInt8] = []
        for stretch in 0..<12 {
            let bytes = Self.bytes(100_000 + stretch * 7_919, seed: UInt8(stretch))
            try Self.append(bytes, to: path)
            whole += bytes
            digest.follow(to: UInt64(whole.count))
        }
        let hash = try await digest.finalize(through: UInt64(whole.count))
        #expect(hash == Array(SHA256.hash(data: whole)))
    }

    @Test func followingReturnsWhileTheFileThreadIsStillReading() async throws {
        let (scratch, fileSystem) = (Scratch(), GatedFileSystem(gated: true))
        let path = scratch.path("held.part")
        let bytes = Self.bytes(600_000, seed: 3)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let digest = FollowingDigest(fileSystem: fileSystem, path: path)
        digest.follow(to: 300_000)
        #expect(
            await eventually { fileSystem.reads.calls == 1 },
            "the first read started and is held")
        digest.follow(to: 600_000)  // returns although the read is held
        fileSystem.reads.open()
        #expect(try await digest.finalize(through: 600_000) == Array(SHA256.hash(data: bytes)))
    }

    @Test func aFailedReadIsWhatFinalizeThrows() async throws {
        let (scratch, fileSystem) = (Scratch(), GatedFileSystem(failing: true))
        let path = scratch.path("unreadable.part")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(Self.bytes(10_000, seed: 5))))
        let digest = FollowingDigest(fileSystem: fileSystem, path: path)
        digest.follow(to: 10_000)
        let error = try await #require(throws: QueueError.self) { try await digest.finalize(through: 10_000) }
        #expect(error.code == .fileSystem && error.systemError == EIO)
    }

    @Test func aFileShorterThanAskedForCannotMatch() async throws {
        let scratch = Scratch()
        let path = scratch.path("short.part")
        let bytes = Self.bytes(50_000, seed: 9)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes[0..<20_000])))
        let digest = FollowingDigest(fileSystem: PosixFileSystem(), path: path)
        #expect(try await digest.finalize(through: 50_000) != Array(SHA256.hash(data: bytes)))
    }

    @Test func afterAResetTheHashStartsFromAnEmptyFile() async throws {
        let scratch = Scratch()
        let path = scratch.path("restarted.part")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(Self.bytes(80_000, seed: 1))))
        let digest = FollowingDigest(fileSystem: PosixFileSystem(), path: path)
        digest.follow(to: 80_000)
        await digest.reset()
        let fresh = Self.bytes(30_000, seed: 2)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(fresh)))
        #expect(try await digest.finalize(through: 30_000) == Array(SHA256.hash(data: fresh)))
    }
}
