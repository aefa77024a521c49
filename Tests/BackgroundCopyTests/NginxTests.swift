import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("HTTP against a real nginx on loopback", .serialized, .alone)
struct NginxTests {
    static func served(_ scratch: Scratch) throws -> String {
        let root = scratch.path("www")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return root
    }

    @Test func downloadsFromNginxAreByteIdentical() async throws {
        let scratch = Scratch()
        let root = try Self.served(scratch)
        let files = [("small.bin", 1), ("medium.bin", 3_000_017), ("empty.bin", 0)]
        for (name, size) in files { FileManager.default.createFile(atPath: "\(root)/\(name)", contents: Data(pattern(size, seed: UInt8(size % 251)))) }
        let nginx = try NginxServer(root: root)
        let manager = try scratch.open(scratch.engineConfiguration())
        let group = try await manager.createGroup(properties: quickRetries("nginx"))
        try await group.createJob().addFiles(files.map { FileSpec(remote: nginx.url($0.0), local: scratch.path($0.0)) })
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually(timeout: .seconds(30)) { try group.status().state == .complete })
        await engine.stop()
        for (name, size) in files { #expect(scratch.contents(name) == pattern(size, seed: UInt8(size % 251)), "\(name)") }
        #expect(nginx.accessLog.map(\.status) == [200, 200, 200])
    }

    @Test func anInterruptedDownloadResumesWithARangeRequestForTheMissingBytesOnly() async throws {
        let scratch = Scratch()
        let root = try Self.served(scratch)
        let size = 6 << 20
        FileManager.default.createFile(atPath: "\(root)/big.bin", contents: Data(pattern(size)))
        let nginx = try NginxServer(root: root, slowRate: 2 << 20)
        let configuration = scratch.engineConfiguration()
        let manager = try scratch.open(configuration)
        let group = try await manager.createGroup(properties: quickRetries("resume"))
        try await group.createJob().addFiles([FileSpec(remote: nginx.url("slow/big.bin"), local: scratch.path("big.bin"))])
        try await group.resume()
        let engine = RunningEngine(manager)
        #expect(try await eventually(timeout: .seconds(20)) { try EngineControlTests.committed(scratch) >= 1 << 20 })
        #expect(await engine.stop() == nil)
        let kept = try EngineControlTests.committed(scratch)
        #expect(kept > 0 && kept < size)

        let reopened = try scratch.open(configuration)
        let again = RunningEngine(reopened)
        #expect(try await eventually(timeout: .seconds(30)) { try reopened.group(group.id).status().state == .complete })
        await again.stop()
        #expect(scratch.contents("big.bin") == pattern(size))
        let log = nginx.accessLog
        #expect(log.count == 2)
        #expect(log.last?.status == 206)
        #expect(log.last?.range == "bytes=\(kept)-")
        #expect(log.last?.bytesSent == size - kept, "only the missing bytes were fetched")
    }

    @Test func aOneGiBSparseFileDownloadsCompleteAndVerified() async throws {
        let scratch = Scratch()
        let root = try Self.served(scratch)
        let path = "\(root)/sparse-1g.bin"
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()
        let nginx = try NginxServer(root: root)
        let manager = try scratch.open(scratch.engineConfiguration())
        let group = try await manager.createGroup(properties: quickRetries("1 GiB", priority: .foreground))
        // SHA-256 of 1 GiB of zero bytes: the engine verifies it before the file becomes visible.
        let zeros = "49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"
        try await group.createJob().addFiles([FileSpec(remote: nginx.url("sparse-1g.bin"), local: scratch.path("copy.bin"), sha256: zeros)])
        try await group.resume()
        let started = ContinuousClock.now
        let engine = RunningEngine(manager)
        #expect(try await eventually(timeout: .seconds(300)) { try group.status().state != .transferring && group.status().state != .queued })
        let elapsed = started.duration(to: .now)
        await engine.stop()
        let status = try await group.status()
        #expect(status.state == .complete, "\(String(describing: status.lastError))")
        let size = try FileManager.default.attributesOfItem(atPath: scratch.path("copy.bin"))[.size] as? UInt64
        #expect(size == 1 << 30)
        #expect(nginx.accessLog.map(\.bytesSent) == [1 << 30])
        print("1 GiB from loopback nginx in \(elapsed)")
    }
}
