import BackgroundCopyTesting
import Foundation
import PostgresNIO
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The engine and the host's calls on a PostgreSQL queue, in this process: real PostgreSQL (the
/// throwaway cluster), real HTTP on loopback.
@Suite("PostgreSQL: the engine and the queue calls", .serialized, .alone)
struct PostgresEngineTests {
    @Test(.timeLimit(.minutes(2)))
    func anEngineTransfersEveryFileOnceAndByteIdentical() async throws {
        let scratch = Scratch()
        let server = try await LoopbackServer.start()
        defer { Task { try? await server.shutdown() } }
        try await PostgresQueue.with { queue in
            let manager = try await PostgresQueueManager(client: queue.client, host: "alpha", logger: scratch.logger)
            let group = try await manager.createGroup(properties: GroupProperties(displayName: "pg"))
            let job = try await group.createJob()
            var specs: [FileSpec] = []
            for index in 0..<20 {
                server.serve("/f\(index)", size: 1000 + index * 7919, seed: UInt64(index))
                specs.append(FileSpec(remote: server.url("/f\(index)"), local: scratch.path("f\(index)")))
            }
            try await job.addFiles(specs)
            try await group.resume()
            let engine = Task { try await manager.run() }
            let done = try await eventuallyAsync(timeout: .seconds(60)) { try await group.status().state == .complete }
            engine.cancel()
            _ = await engine.result
            #expect(done)
            for index in 0..<20 {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.path("f\(index)")))
                #expect([UInt8](bytes) == server.expected("/f\(index)"), "file \(index)")
            }
            let kinds = try await queue.eventKinds()
            #expect(kinds.filter { $0 == "fileComplete" }.count == 20)
            #expect(kinds.filter { $0 == "groupComplete" }.count == 1)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.directory).filter { $0.hasSuffix(".bgcopy-part") }
            #expect(leftovers.isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func badInputIsRefusedNamingTheValueAndChangesNothing() async throws {
        let scratch = Scratch()
        try await PostgresQueue.with { queue in
            await #expect(throws: QueueError.self) { try await PostgresQueueManager(client: queue.client, host: "") }
            do throws(QueueError) {
                _ = try await PostgresQueueManager(client: queue.client, host: "a", leaseDuration: .milliseconds(10))
                Issue.record("a 10 ms lease was accepted")
            } catch {
                #expect(error.code == .invalidArgument)
            }
            let manager = try await PostgresQueueManager(client: queue.client, host: "a")
            let group = try await manager.createGroup(properties: GroupProperties(displayName: "g"))
            let job = try await group.createJob()
            try await job.addFiles([FileSpec(remote: "http://127.0.0.1:1/a", local: scratch.path("a"))])
            let before = try await queue.eventKinds()
            do throws(QueueError) {
                try await job.addFiles([
                    FileSpec(remote: "http://127.0.0.1:1/b", local: scratch.path("b")),
                    FileSpec(remote: "http://127.0.0.1:1/a2", local: scratch.path("a")),
                ])
                Issue.record("a second live file with the same local path was accepted")
            } catch {
                #expect(error.code == .invalidArgument && error.value == scratch.path("a"))
            }
            do throws(QueueError) {
                _ = try await manager.createGroup(id: group.id, properties: GroupProperties(displayName: "again"))
                Issue.record("a taken group ID was accepted")
            } catch {
                #expect(error.code == .alreadyExists && error.value == group.id.description)
            }
            #expect(try await queue.eventKinds() == before, "the refused calls recorded nothing")
            let count = try queue.cluster.psql(database: queue.database, command: "SELECT count(*) FROM files")
            #expect(count.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        }
    }

    /// A suspend stops the transfer and keeps its committed bytes; a cancel from another manager
    /// (another host) discards it and leaves no temp file.
    @Test(.timeLimit(.minutes(2)))
    func suspendAndCancelFromAnotherHostStopTheTransfer() async throws {
        let scratch = Scratch()
        let server = try await LoopbackServer.start()
        defer { Task { try? await server.shutdown() } }
        try await PostgresQueue.with { queue in
            var configuration = QueueManager.Configuration()
            configuration.checkpointInterval = .milliseconds(200)
            let engineHost = try await PostgresQueueManager(client: queue.client, host: "engine", configuration: configuration)
            let other = try await PostgresQueueManager(client: queue.client, host: "other")
            server.serve("/slow", size: 400_000, seed: 9)
            server.setFault("/slow", .trickle(bytesPerSecond: 40_000))
            let group = try await other.createGroup(properties: GroupProperties(displayName: "slow"))
            try await group.createJob().addFiles([FileSpec(remote: server.url("/slow"), local: scratch.path("slow"))])
            try await group.resume()
            let engine = Task { try await engineHost.run() }
            defer { engine.cancel() }
            let temp = scratch.directory
            #expect(try await eventuallyAsync(timeout: .seconds(20)) { try await queue.fileRows().first?.bytesDone ?? 0 > 0 })
            try await group.suspend()
            #expect(try await eventuallyAsync { try await queue.fileRows().first?.state == "queued" })
            let kept = try await queue.fileRows().first?.bytesDone ?? 0
            #expect(kept > 0, "the committed bytes are kept")
            try await group.resume()
            #expect(try await eventuallyAsync(timeout: .seconds(20)) { try await queue.fileRows().first?.state == "transferring" })
            try await group.cancel()
            #expect(try await queue.fileRows().first?.state == "discarded")
            #expect(
                try await eventuallyAsync {
                    try FileManager.default.contentsOfDirectory(atPath: temp).allSatisfy { !$0.hasSuffix(".bgcopy-part") }
                }, "the temp file is removed")
            await #expect(throws: QueueError.self) { try await group.status() }
        }
    }
}

extension PostgresQueue {
    /// Every file's row, in row-ID order.
    func fileRows() async throws -> [FileRow] {
        var rows: [FileRow] = []
        let query = try await client.query("SELECT state, bytes_done, lease_host, lease_token FROM files ORDER BY id")
        for try await (state, done, host, token) in query.decode((String, Int64, String?, Int64?).self) {
            rows.append(FileRow(state: state, bytesDone: done, host: host, token: token))
        }
        return rows
    }
}

/// Polls an async `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventuallyAsync(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
