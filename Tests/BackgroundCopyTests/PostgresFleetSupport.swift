import BackgroundCopyTesting
import Foundation
import PostgresNIO
import Synchronization
import Testing
@testable import BackgroundCopy

/// Engine processes (`bgcopy run --db postgres://…`) on one test's PostgreSQL queue, and what the
/// fleet tests look at afterwards.
struct Fleet {
    let queue: PostgresQueue
    let scratch: Scratch
    let server: LoopbackServer
    /// The queue as the fourth process (this one) uses it.
    let manager: PostgresQueueManager
    /// Every engine started, stopped when the test ends however it ends.
    let started = Started()

    final class Started: Sendable {
        private let engines = Mutex<[CLIProcess]>([])

        func append(_ engine: CLIProcess) {
            engines.withLock { (engines: inout [CLIProcess]) in engines.append(engine) }
        }

        var all: [CLIProcess] {
            engines.withLock { (engines: inout [CLIProcess]) -> [CLIProcess] in engines }
        }
    }

    var url: String { "postgres://\(queue.cluster.user)@\(queue.cluster.host):\(queue.cluster.port)/\(queue.database)" }

    /// Starts `bgcopy run` as host `name`, logging at info level (leases lost and taken over) on stderr.
    func engine(_ name: String, lease: Int, maxConcurrent: Int, mutant: String? = nil) throws -> CLIProcess {
        let arguments = ["run", "--db", url, "--host", name, "--lease", "\(lease)", "--max-concurrent", "\(maxConcurrent)", "-v"]
        let engine = try CLI.start(arguments, scratch, db: false, environment: ["BGCOPY_MUTANT": mutant ?? ""])
        started.append(engine)
        return engine
    }

    /// A resumed group of one job whose files the server serves: `sizes[i]` bytes at `/<tag>/<i>`,
    /// written to `<scratch>/<tag>/<i>`. Returns the group and the files' (server path, local path).
    func group(_ tag: String, sizes: [Int], trickle: Int? = nil) async throws -> (PostgresGroup, [(remote: String, local: String)]) {
        let directory = scratch.path(tag)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [(remote: String, local: String)] = []
        for (index, size) in sizes.enumerated() {
            let path = "/\(tag)/\(index)"
            server.serve(path, size: size, seed: UInt64(index * 31 + tag.utf8.count))
            if let trickle { server.setFault(path, .trickle(bytesPerSecond: trickle)) }
            files.append((path, "\(directory)/\(index)"))
        }
        let group = try await manager.createGroup(properties: GroupProperties(displayName: tag))
        try await group.createJob().addFiles(files.map { FileSpec(remote: server.url($0.remote), local: $0.local) })
        try await group.resume()
        return (group, files)
    }

    /// How many `fileComplete` events each file (group, job, index) got, for every file of the queue.
    func completions() async throws -> [Int] {
        var counts: [Int] = []
        let rows = try await queue.client.query(
            """
            SELECT (SELECT count(*) FROM events e WHERE e.kind = 'fileComplete' AND e.group_id = j.group_id
                      AND e.job_id = f.job_id AND e.file_index = f.position)
            FROM files f JOIN jobs j ON j.id = f.job_id ORDER BY f.id
            """)
        for try await count in rows.decode(Int64.self) { counts.append(Int(count)) }
        return counts
    }

    /// The files whose bytes on disk differ from what the server serves, or that are missing.
    func mismatches(_ files: [(remote: String, local: String)]) -> [String] {
        files.filter { file in
            guard let bytes = FileManager.default.contents(atPath: file.local) else { return true }
            return [UInt8](bytes) != server.expected(file.remote)
        }.map(\.local)
    }

    /// The rows of the files `host` holds now, by file row ID.
    func held(by host: String) async throws -> [Int64: PostgresQueue.FileRow] {
        var held: [Int64: PostgresQueue.FileRow] = [:]
        let rows = try await queue.client.query(
            """
            SELECT id, state, bytes_done, lease_host, lease_token FROM files WHERE lease_host = \(host)
            """)
        for try await (id, state, done, holder, token) in rows.decode((Int64, String, Int64, String?, Int64?).self) {
            held[id] = PostgresQueue.FileRow(state: state, bytesDone: done, host: holder, token: token)
        }
        return held
    }

    /// The rows of the given files now.
    func rows(_ ids: some Collection<Int64>) async throws -> [Int64: PostgresQueue.FileRow] {
        var result: [Int64: PostgresQueue.FileRow] = [:]
        for id in ids { result[id] = try await queue.file(id) }
        return result
    }

    /// Stops every engine still running (SIGCONT, SIGINT, then waits) and returns what each left.
    static func stop(_ engines: [CLIProcess]) async -> [CLIResult] {
        var results: [CLIResult] = []
        for engine in engines {
            engine.signal(SIGCONT)
            engine.signal(SIGINT)
            results.append(await engine.finish(timeout: .seconds(20)))
        }
        return results
    }

    /// Runs `body` with a fresh queue, a loopback server and this process's manager on them; every
    /// engine it started is stopped after, however it ends.
    static func with<T: Sendable>(_ body: @Sendable (Fleet) async throws -> T) async throws -> T {
        let scratch = Scratch()
        let server = try await LoopbackServer.start()
        let result: Result<T, any Error>
        do {
            result = .success(
                try await PostgresQueue.with { queue in
                    let manager = try await PostgresQueueManager(client: queue.client, host: "tester")
                    let fleet = Fleet(queue: queue, scratch: scratch, server: server, manager: manager)
                    do {
                        let value = try await body(fleet)
                        _ = await stop(fleet.started.all)
                        return value
                    } catch {
                        _ = await stop(fleet.started.all)
                        throw error
                    }
                })
        } catch {
            result = .failure(error)
        }
        try? await server.shutdown()  // what the test saw matters more than a failed shutdown
        return try result.get()
    }
}
