import AsyncHTTPClient
import Foundation
import BackgroundCopyTesting
import NIOPosix
import NIOSSL
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

@Suite("Hostile servers: the disk never fills, nothing hangs, TLS is verified", .alone)
struct HostileServerTests {
    @Test func aContentLengthLargerThanTheFreeSpaceIsRefusedBeforeAByteIsWritten() async throws {
        let server = try await LoopbackServer.start()
        server.serve("/huge.bin", size: 8 << 20, seed: 1)
        let disk = SmallDiskFileSystem(capacity: 3 << 20)
        let queue = try SecureQueue(fileSystem: disk) { $0.reservedFreeSpace = 1 << 20 }
        let group = try queue.download(server.url("/huge.bin"), to: "huge.bin")
        #expect(try await queue.finished(group) == .error)
        await queue.engine.stop()
        try await server.shutdown()
        let failure = try await #require(try group.status().lastError)
        #expect(failure.error.systemError == ENOSPC)
        #expect(failure.error.message.contains("8388608 bytes"), "\(failure.error.message)")
        #expect(disk.written.load(ordering: .relaxed) == 0, "refused before a byte was written")
        #expect(queue.tempFiles.isEmpty, "temp file removed: \(queue.tempFiles)")
        #expect(queue.scratch.contents("huge.bin") == nil)
        #expect(try query(queue.scratch.database, "SELECT state, bytes_done FROM files") == [["error", "0"]])
    }

    @Test func anEndlessBodyWithoutALengthIsStoppedAtTheReserveAndItsTempFileRemoved() async throws {
        let server = try await LoopbackServer.start()
        server.serve("/endless", size: 1000, seed: 2)
        server.setFault("/endless", .endless)
        let disk = SmallDiskFileSystem(capacity: 6 << 20)
        let queue = try SecureQueue(fileSystem: disk) { $0.reservedFreeSpace = 2 << 20 }
        let group = try queue.download(server.url("/endless"), to: "endless.bin")
        #expect(try await queue.finished(group) == .error)
        await queue.engine.stop()
        try await server.shutdown()
        let failure = try await #require(try group.status().lastError)
        #expect(failure.error.systemError == ENOSPC)
        #expect(failure.error.message.contains("kept sending"), "\(failure.error.message)")
        let written = disk.written.load(ordering: .relaxed)
        #expect(written >= 3 << 20, "it ran until the reserve: \(written) bytes")
        #expect(written < disk.capacity, "the disk never filled: \(written) of \(disk.capacity) bytes")
        #expect(queue.tempFiles.isEmpty, "temp file removed: \(queue.tempFiles)")
        #expect(queue.scratch.contents("endless.bin") == nil)
    }

    @Test func aServerThatStallsForeverFailsItsGroupAtTheNoProgressTimeoutWhileOtherGroupsComplete() async throws {
        let server = try await LoopbackServer.start()
        server.serve("/stall.bin", size: 100_000, seed: 3)
        server.setFault("/stall.bin", .stall)
        server.serve("/fine.bin", size: 200_000, seed: 4)
        let queue = try SecureQueue { $0.readTimeout = .milliseconds(300) }
        let stalled = try queue.download(
            server.url("/stall.bin"), to: "stall.bin",
            properties: quickRetries("stalled", noProgressTimeout: .seconds(2)))
        #expect(try await eventually { server.requests("/stall.bin").count >= 1 })
        let fine = try queue.download(server.url("/fine.bin"), to: "fine.bin", properties: quickRetries("fine", priority: .foreground))
        #expect(try await queue.finished(fine) == .complete)
        await #expect(try stalled.status().state != .error, "the healthy group finished while the stalled one still waited")
        #expect(try await queue.finished(stalled) == .error)
        let failure = try await #require(try stalled.status().lastError)
        #expect(failure.error.code == .transfer)
        #expect(server.requests("/stall.bin").count >= 2, "timed out and retried before giving up")
        let other = try queue.download(server.url("/fine.bin"), to: "again.bin")
        #expect(try await queue.finished(other) == .complete, "the engine still serves new work")
        await queue.engine.stop()
        try await server.shutdown()
        #expect(queue.scratch.contents("fine.bin") == server.expected("/fine.bin"))
        #expect(queue.scratch.contents("stall.bin") == nil)
    }

    @Test func aSelfSignedCertificateIsRefusedAndNothingIsWritten() async throws {
        let scratch = Scratch()
        let identity = try selfSignedIdentity(in: scratch.directory)
        let server = try await LoopbackServer.start(tls: identity)
        server.serve("/secret.bin", size: 10_000, seed: 5)
        // AsyncHTTPClient keeps trying to connect until the connect timeout, then reports the TLS failure.
        let queue = try SecureQueue { $0.connectTimeout = .seconds(2) }
        let group = try queue.download(server.url("/secret.bin"), to: "secret.bin")
        #expect(try await queue.finished(group) == .error)
        await queue.engine.stop()
        try await server.shutdown()
        let failure = try await #require(try group.status().lastError)
        #expect(failure.error.code == .transfer)
        #expect(failure.error.message.contains("TLS"), "\(failure.error.message)")
        #expect(failure.error.message.contains("CERTIFICATE_VERIFY_FAILED"), "refused by verification, not some other TLS failure")
        #expect(!failure.error.isTransient)
        #expect(server.requests("/secret.bin").isEmpty, "no request went over the unverified connection")
        #expect(queue.scratch.contents("secret.bin") == nil)
        #expect(try query(queue.scratch.database, "SELECT state, bytes_done FROM files") == [["error", "0"]])
    }

    /// The control for the test above: the same listener and certificate work once trusted.
    @Test func theSameCertificateIsAcceptedWhenTheHostTrustsIt() async throws {
        let scratch = Scratch()
        let identity = try selfSignedIdentity(in: scratch.directory)
        let server = try await LoopbackServer.start(tls: identity)
        server.serve("/trusted.bin", size: 300_000, seed: 6)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(identity.certificateChainPEM.utf8)))
        var configuration = HTTPTransport.clientConfiguration(connectTimeout: .seconds(10), readTimeout: .seconds(10))
        configuration.tlsConfiguration = tls
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let queue = try SecureQueue { $0.transports["https"] = HTTPTransport(client: client) }
        let group = try queue.download(server.url("/trusted.bin"), to: "trusted.bin")
        #expect(try await queue.finished(group) == .complete)
        await queue.engine.stop()
        try await client.shutdown()
        try await server.shutdown()
        #expect(queue.scratch.contents("trusted.bin") == server.expected("/trusted.bin"))
    }
}
