import Crypto
import Foundation
import Testing
@testable import BackgroundCopy

/// The expected SHA-256 is computed while the file streams in (each checkpoint has a file thread
/// read its stretch back from the temp file, beside the stream), over the bytes a resumed file already
/// held as well as the new ones, and from zero again when the file starts over.
@Suite("The SHA-256 computed beside the stream", .alone)
struct StreamingDigestTests {
    /// Small checkpoints, so that many of them run, and hash, while the body streams in.
    static func smallCheckpoints(_ configuration: inout QueueManager.Configuration) {
        configuration.checkpointBytes = 64 << 10
    }

    static func digest(_ bytes: [UInt8]?) throws -> String {
        Array(SHA256.hash(data: try #require(bytes))).hexString
    }

    @Test func aFileStreamedAcrossManyCheckpointsMatchesItsDigest() async throws {
        let http = try await HTTPFixture(configure: Self.smallCheckpoints)
        http.server.serve("/whole.bin", size: 3_000_000, seed: 11)
        let group = try http.download("/whole.bin", sha256: try Self.digest(http.server.expected("/whole.bin")))
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("whole.bin") == http.server.expected("/whole.bin"))
    }

    @Test func aResumedFileIsVerifiedOverTheBytesItHeldAndTheRest() async throws {
        let http = try await HTTPFixture(configure: Self.smallCheckpoints)
        http.server.serve("/resumed.bin", size: 3_000_000, seed: 12)
        http.server.setFault("/resumed.bin", .closeAfter(bytes: 1_000_000), times: 1)
        let group = try http.download("/resumed.bin", sha256: try Self.digest(http.server.expected("/resumed.bin")))
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("resumed.bin") == http.server.expected("/resumed.bin"))
        let requests = http.server.requests("/resumed.bin")
        #expect(requests.count == 2 && requests[1].header("Range") != nil, "the second request resumed")
    }

    @Test func heldBytesChangedOnDiskBeforeTheResumeFailValidation() async throws {
        let http = try await HTTPFixture(configure: Self.smallCheckpoints)
        http.server.serve("/tampered.bin", size: 3_000_000, seed: 13)
        http.server.setFault("/tampered.bin", .closeAfter(bytes: 1_000_000), times: 1)
        let properties = GroupProperties(displayName: "tampered", retryDelay: .seconds(2), noProgressTimeout: .seconds(30))
        let group = try http.download("/tampered.bin", properties: properties, sha256: try Self.digest(http.server.expected("/tampered.bin")))
        // While the file waits for its retry, a byte it already holds changes on disk.
        var temp: String?
        #expect(
            try await eventually {
                guard try group.status().lastError != nil else { return false }
                let names = try FileManager.default.contentsOfDirectory(atPath: http.scratch.directory)
                temp = names.first { $0.hasPrefix(".tampered.bin.") && $0.hasSuffix(".bgcopy-part") }
                return temp != nil
            })
        let name = try #require(temp)
        let handle = try #require(FileHandle(forUpdatingAtPath: http.scratch.path(name)))
        try handle.seek(toOffset: 100)
        let original = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: [original ^ 0xFF])
        try handle.close()

        #expect(try await http.finished(group) == .error)
        try await http.stop()
        let status = try await group.status()
        #expect(status.lastError?.error.code == .validationFailed, "\(String(describing: status.lastError))")
        #expect(http.file("tampered.bin") == nil, "a file that failed its digest never becomes visible")
        #expect(http.server.requests("/tampered.bin").last?.header("Range") != nil, "the held bytes were kept and resumed")
    }

    @Test func aFileThatStartsOverIsHashedFromZeroAgain() async throws {
        let http = try await HTTPFixture(configure: Self.smallCheckpoints)
        let size = 2_000_000
        http.server.serve("/over.bin", size: size, seed: 14)
        http.server.setFault("/over.bin", .closeAfter(bytes: 700_000), times: 1)
        let group = try http.download("/over.bin", sha256: try Self.digest(http.server.expected("/over.bin")))
        #expect(try await eventually { http.server.requests("/over.bin").count >= 1 })
        http.server.setFault("/over.bin", .ignoreRange)
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("over.bin") == http.server.expected("/over.bin"))
        #expect(http.server.bytesServed("/over.bin") == 700_000 + size, "the second answer started over at byte 0")
    }
}
