import CSQLite
import Foundation
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Nothing the library opens outlives the queue or the transfer that opened it: a host that opens
/// queues, runs engines and meets failing disks for days must not run out of descriptors. The
/// crash harness found a worker that kept its temp file open when a step right after opening it
/// failed (one descriptor per faulted file, thousands over a sweep).
@Suite("Descriptors: none outlives what opened it", .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/fd")), .alone)
struct DescriptorLeakTests {
    /// The descriptors of this process that name something under `directory` (other tests run
    /// beside this one, so the process's total is no measure; their files are elsewhere).
    static func descriptors(under directory: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.hasPrefix(directory + "/") }
    }

    /// The real file system, except that once `armed`, directory fsyncs and truncations fail with
    /// EIO: the two steps a worker takes right after opening its temp file.
    final class FailingAfterOpenFileSystem: PassThroughFileSystem {
        let armed = Atomic(false)

        func fsyncDirectory(_ path: String) throws(QueueError) {
            guard !armed.load(ordering: .relaxed) else { throw QueueError(.fileSystem, "fsync directory \(path): EIO", value: path, systemError: EIO) }
            try PosixFileSystem().fsyncDirectory(path)
        }

        func truncate(_ file: OpenFile, to size: UInt64) throws(QueueError) {
            guard !armed.load(ordering: .relaxed) else { throw QueueError(.fileSystem, "truncate \(file.path): EIO", value: file.path, systemError: EIO) }
            try PosixFileSystem().truncate(file, to: size)
        }
    }

    @Test func aTempFileWhoseNextStepFailsIsClosedByTheWorker() async throws {
        let scratch = Scratch()
        let files = 8
        var configuration = scratch.engineConfiguration()
        configuration.transports["file"] = FileTransport(fileSystem: PosixFileSystem())
        // The clock stands still between the rounds, so each file is claimed once per round.
        let clock = Mutex(Date())
        configuration.wallClock = { clock.withLock { $0 } }
        let fileSystem = FailingAfterOpenFileSystem()
        let manager = try QueueManager(path: scratch.database, configuration: configuration, fileSystem: fileSystem, logger: scratch.logger)
        for index in 0..<files {
            let group = try await manager.createGroup(properties: quickRetries("g\(index)"))
            let source = scratch.source("src\(index)", size: 4096)
            try await group.createJob().addFiles([FileSpec(remote: "file://\(source)", local: scratch.path("f\(index)"))])
            try await group.resume()
        }
        let transports = configuration.transports
        fileSystem.armed.store(true, ordering: .relaxed)

        // Each new temp file is created, then its directory fsync fails: the file waits for a retry.
        var claimed = 0
        while try await manager.transferNextFile(transports: transports) { claimed += 1 }
        #expect(claimed == files)
        let temps = try FileManager.default.contentsOfDirectory(atPath: scratch.directory).filter { $0.hasSuffix(Validator.tempSuffix) }
        #expect(temps.count == files)
        let openTemps = { Self.descriptors(under: scratch.directory).filter { $0.contains(Validator.tempSuffix) } }
        #expect(openTemps().isEmpty, "temp files left open after a failed directory fsync")

        // Bytes beyond the committed count: each retry opens the temp file and fails to cut it back.
        for temp in temps { scratch.write(temp, pattern(100)) }
        clock.withLock { $0 = $0.addingTimeInterval(5) }  // every retry is due, no group near its no-progress timeout
        var retried = 0
        while try await manager.transferNextFile(transports: transports) { retried += 1 }
        #expect(retried == files)
        #expect(openTemps().isEmpty, "temp files left open after a failed truncation")
    }

    @Test func queuesOpenedAndDroppedManyTimesIncludingFailedOpensLeaveNoDescriptor() async throws {
        let scratch = Scratch()
        let foreign = scratch.path("foreign.sqlite")
        var db: OpaquePointer?
        #expect(sqlite3_open_v2(foreign, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK)
        #expect(sqlite3_exec(db, "CREATE TABLE notes (text TEXT)", nil, nil, nil) == SQLITE_OK)
        sqlite3_close_v2(db)
        let garbage = scratch.path("garbage.sqlite")
        scratch.write("garbage.sqlite", pattern(8192))

        for round in 0..<16 {
            do {
                let manager = try scratch.open(scratch.engineConfiguration())
                let group = try await manager.createGroup(properties: quickRetries("round \(round)"))
                try await group.createJob().addFiles([
                    FileSpec(
                        remote: "file://" + scratch.source("s\(round)", size: 2048),
                        local: scratch.path("d\(round)"))
                ])
                try await group.resume()
                _ = try await manager.groups()
                let engine = RunningEngine(manager)
                #expect(try await eventually { try group.status().state == .complete })
                #expect(await engine.stop() == nil)
            }
            #expect(throws: QueueError.self) { try QueueManager(path: foreign, logger: scratch.logger) }
            #expect(throws: QueueError.self) { try QueueManager(path: garbage, logger: scratch.logger) }
            #expect(throws: QueueError.self) { try QueueManager(path: scratch.path("missing/queue.sqlite"), logger: scratch.logger) }
        }
        #expect(
            try await eventually(timeout: .seconds(5)) { Self.descriptors(under: scratch.directory).isEmpty },
            "left open: \(Self.descriptors(under: scratch.directory))")
    }
}
