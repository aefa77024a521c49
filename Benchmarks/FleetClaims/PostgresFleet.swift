import BackgroundCopy
import BackgroundCopyTesting
import Foundation
import PostgresNIO

/// The PostgreSQL side of the run: one throwaway cluster (``PostgresCluster``, as the tests use),
/// a template queue filled once through the library, and a fresh copy of it for every row, so
/// every row starts from the same backlog.
struct PostgresFleet: Sendable {
    let cluster: PostgresCluster
    static let template = "fleet_template"

    /// Starts the cluster and fills the template queue with `groups` groups of 100 files.
    static func start(groups: Int, downloads: String) async throws -> PostgresFleet {
        let fleet = PostgresFleet(cluster: try PostgresCluster.start())
        try fleet.cluster.createDatabase(template)
        try await fleet.withClients(1, database: template, connections: Backlog.writers) { clients in
            let queue = try await PostgresQueueManager(client: clients[0], host: "filler", logger: quiet)
            try await Backlog.fill(queue, groups: groups, downloads: downloads)
        }
        return fleet
    }

    /// The server's durability settings, as it reports them.
    func durability() throws -> String {
        let names = ["server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level"]
        let values = try names.map { try cluster.psql(database: "postgres", command: "SHOW \($0)").trimmingCharacters(in: .whitespacesAndNewlines) }
        return zip(names, values).map { "\($0)=\($1)" }.joined(separator: ", ")
    }

    /// Claim→complete cycles through the library's engine ledger: `engines` engines, each a
    /// `PostgresQueueManager` with a client (connection pool) of its own, as on separate hosts.
    func library(engines: Int, seconds: Int) async throws -> Throughput {
        let database = try copy(named: "library_\(engines)")
        return try await withClients(engines + 1, database: database) { clients in
            let (cycles, profile) = try await Drive.run(
                engines: engines, seconds: seconds, observe: { try await ServerProfile.sample(clients[engines], window: $0) },
                engine: { index, window in
                    let queue = try await PostgresQueueManager(client: clients[index], host: "engine-\(index)", logger: quiet)
                    let ledger = queue.engineLedger
                    return try await window.count { try await LedgerCycle.run(ledger) }
                })
            return Throughput(cycles: cycles, seconds: seconds, profile: profile)
        }
    }

    /// The same cycles as raw SQL (``RawSkipLocked``): `engines` connections of one client.
    func raw(engines: Int, seconds: Int) async throws -> Throughput {
        let database = try copy(named: "raw_\(engines)")
        return try await withClients(2, database: database, connections: engines) { clients in
            let (cycles, profile) = try await Drive.run(
                engines: engines, seconds: seconds, observe: { try await ServerProfile.sample(clients[1], window: $0) },
                engine: { index, window in
                    try await clients[0].withConnection { connection in
                        try await window.count { try await RawSkipLocked.cycle(connection, host: "engine-\(index)") }
                    }
                })
            return Throughput(cycles: cycles, seconds: seconds, profile: profile)
        }
    }

    /// A new database copied from the template (no one may be connected to the template, and the
    /// filler's connections close a moment after its client stops, hence the retries).
    private func copy(named name: String) throws -> String {
        let command = "CREATE DATABASE \(name) TEMPLATE \(Self.template) STRATEGY FILE_COPY"
        for _ in 0..<50 {
            if (try? cluster.psql(database: "postgres", command: command)) != nil { return name }
            usleep(100_000)
        }
        try cluster.psql(database: "postgres", command: command)
        return name
    }

    /// Runs `count` clients on `database`, each with up to `connections` connections, for `body`.
    private func withClients<T: Sendable>(
        _ count: Int, database: String, connections: Int = 2, _ body: @Sendable ([PostgresClient]) async throws -> T
    ) async throws -> T {
        var configuration = PostgresClient.Configuration(
            host: cluster.host, port: cluster.port, username: cluster.user, password: nil, database: database, tls: .disable)
        configuration.options.maximumConnections = connections
        let clients = (0..<count).map { _ in PostgresClient(configuration: configuration, backgroundLogger: quiet) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { await client.run() } }
            defer { group.cancelAll() }
            return try await body(clients)
        }
    }
}

/// What one row measured.
struct Throughput: Sendable {
    let cycles: Int
    let seconds: Int
    /// Where the server's sessions were during the row (PostgreSQL rows only).
    let profile: ServerProfile?

    var perSecond: Double { Double(cycles) / Double(seconds) }
}
