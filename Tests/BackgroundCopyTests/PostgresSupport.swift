import BackgroundCopyTesting
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import BackgroundCopy

/// The `Schema/postgres/` folder of this package.
let postgresSchemaDirectory = schemaDirectory.appending(path: "postgres")

/// One test's PostgreSQL queue: a fresh database on the process's shared throwaway cluster, a
/// running `PostgresClient` on it and the store over that client.
struct PostgresQueue: Sendable {
    let cluster: PostgresCluster
    let database: String
    let client: PostgresClient
    let store: PostgresStore

    /// Runs `body` with a new database (migrated unless `migrate` is false); the client stops after.
    static func with<T: Sendable>(migrate: Bool = true, _ body: @Sendable (PostgresQueue) async throws -> T) async throws -> T {
        let cluster = try PostgresCluster.shared()
        let database = try cluster.createDatabase()
        let configuration = PostgresClient.Configuration(
            host: cluster.host, port: cluster.port, username: cluster.user, password: nil, database: database, tls: .disable)
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let queue = PostgresQueue(cluster: cluster, database: database, client: client, store: PostgresStore(client: client))
            if migrate { try await queue.store.migrate() }
            return try await body(queue)
        }
    }

    /// Adds a group in `state` with one job of `files` files (local paths under `/shared/<tag>/`);
    /// returns the group's and the files' row IDs, files in order.
    @discardableResult
    func seedGroup(_ tag: String, state: String = "queued", priority: Int32 = 2, files: Int) async throws -> (group: Int64, files: [Int64]) {
        let groups = try await client.query(
            """
            INSERT INTO groups (uuid, state, priority, display_name, created_at, modified_at)
            VALUES (gen_random_uuid(), \(state), \(priority), \(tag), 0, 0) RETURNING id
            """)
        var group: Int64 = 0
        for try await id in groups.decode(Int64.self) { group = id }
        let jobs = try await client.query("INSERT INTO jobs (uuid, group_id, created_at) VALUES (gen_random_uuid(), \(group), 0) RETURNING id")
        var job: Int64 = 0
        for try await id in jobs.decode(Int64.self) { job = id }
        let count = Int32(files)
        let rows = try await client.query(
            """
            INSERT INTO files (job_id, position, remote_url, local_path)
            SELECT \(job), n, 'http://127.0.0.1:1/' || \(tag) || '/' || n, '/shared/' || \(tag) || '/file' || n
            FROM generate_series(0, \(count) - 1) AS n
            RETURNING id
            """)
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return (group, ids.sorted())
    }

    /// One file's row as the tests look at it.
    struct FileRow: Equatable {
        let state: String
        let bytesDone: Int64
        let host: String?
        let token: Int64?
    }

    func file(_ id: Int64) async throws -> FileRow {
        let rows = try await client.query("SELECT state, bytes_done, lease_host, lease_token FROM files WHERE id = \(id)")
        for try await (state, done, host, token) in rows.decode((String, Int64, String?, Int64?).self) {
            return FileRow(state: state, bytesDone: done, host: host, token: token)
        }
        throw QueueError.notFound("file", "\(id)")
    }

    /// The kinds of the events recorded so far, in order.
    func eventKinds() async throws -> [String] {
        var kinds: [String] = []
        for try await kind in try await client.query("SELECT kind FROM events ORDER BY seq").decode(String.self) { kinds.append(kind) }
        return kinds
    }
}
