import Foundation
import BackgroundCopyTesting
import Logging
import Synchronization
import Testing
@testable import BackgroundCopy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A queue with a running engine, opened through any file system and logging everything (trace
/// level) into the scratch's log, for the security tests.
struct SecureQueue {
    let scratch = Scratch()
    let manager: QueueManager
    let engine: RunningEngine

    init(
        fileSystem: any FileSystem = PosixFileSystem(),
        configure: (inout QueueManager.Configuration) -> Void = { _ in }
    ) throws {
        var configuration = scratch.engineConfiguration()
        configure(&configuration)
        var logger = scratch.logger
        logger.logLevel = .trace
        manager = try QueueManager(path: scratch.database, configuration: configuration, fileSystem: fileSystem, logger: logger)
        engine = RunningEngine(manager)
    }

    /// Queues `remote` into `local` (a name in the scratch directory, or an absolute path) as a
    /// group of its own, resumed.
    func download(_ remote: String, to local: String, properties: GroupProperties = quickRetries("secure")) throws -> Group {
        let group = try manager.createGroup(properties: properties)
        let path = local.hasPrefix("/") ? local : scratch.path(local)
        try group.createJob().addFiles([FileSpec(remote: remote, local: path)])
        try group.resume()
        return group
    }

    /// Waits until the group is complete or in error and returns its state.
    func finished(_ group: Group, timeout: Duration = .seconds(20)) async throws -> GroupState {
        _ = try await eventually(timeout: timeout) { [.complete, .error].contains(try group.status().state) }
        return try await group.status().state
    }

    /// The names in the scratch directory that are temp files.
    var tempFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scratch.directory)) ?? []).filter { $0.hasSuffix(Validator.tempSuffix) }
    }
}

/// The real file system on a disk of `capacity` bytes: free space is the capacity less every byte
/// written through it (truncations give nothing back), so a test can run a disk full without
/// filling the real one.
final class SmallDiskFileSystem: PassThroughFileSystem {
    let capacity: UInt64
    let written = Atomic<UInt64>(0)
    private let real = PosixFileSystem()

    init(capacity: UInt64) { self.capacity = capacity }

    func freeSpace(inDirectory path: String) throws(QueueError) -> UInt64 {
        let used = written.load(ordering: .relaxed)
        return used >= capacity ? 0 : capacity - used
    }

    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(QueueError) {
        written.add(UInt64(bytes.count), ordering: .relaxed)
        try real.write(file, bytes, at: offset)
    }
}

/// A self-signed certificate for 127.0.0.1 and its key, made by the `openssl` command line in
/// `directory`.
func selfSignedIdentity(in directory: String) throws -> TLSIdentity {
    let key = "\(directory)/tls-key.pem"
    let certificate = "\(directory)/tls-cert.pem"
    let arguments = [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1",
    ]
    let status = try runQuietly("/usr/bin/env", ["openssl"] + arguments)
    guard status == 0 else { throw CLIFailure("openssl req exited \(status)") }
    return TLSIdentity(
        certificateChainPEM: try String(contentsOfFile: certificate, encoding: .utf8),
        privateKeyPEM: try String(contentsOfFile: key, encoding: .utf8))
}

/// Runs a program with its output discarded and returns its exit status.
func runQuietly(_ executable: String, _ arguments: [String]) throws -> Int32 {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else { throw CLIFailure("cannot start \(executable): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xFF
}

/// Whether `needle` occurs anywhere in `haystack`.
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    let first = needle[0]
    var index = 0
    while let start = haystack[index...].firstIndex(of: first), start + needle.count <= haystack.count {
        if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        index = start + 1
    }
    return false
}
