import Foundation
import Logging
import PostgresNIO

extension PostgresQueueManager {
    /// Opens the queue at a `postgres://user[:password]@host[:port]/database` URL (`postgresql://`
    /// too) for the duration of `body`, with a client of its own that stops when `body` returns.
    /// Only plain connections are supported for now (`sslmode=disable`, the default here): use it on
    /// a trusted network or through a local tunnel.
    ///
    /// - Throws: `invalidArgument` naming the URL (its password hidden) when it is not such a URL;
    ///   what ``init(client:host:leaseDuration:configuration:logger:)`` and `body` throw.
    public static func withQueue<T: Sendable>(
        url: String, host: String, leaseDuration: Duration = .seconds(15), configuration: QueueManager.Configuration = .init(),
        logger: Logger = Logger.current, _ body: @Sendable (PostgresQueueManager) async throws(QueueError) -> T
    ) async throws(QueueError) -> T {
        let settings = try clientConfiguration(url: url)
        let logger = QueueManager.chosen(logger)
        let client = PostgresClient(configuration: settings, backgroundLogger: logger)
        let outcome = await withDiscardingTaskGroup { group -> Result<T, QueueError> in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            do throws(QueueError) {
                let manager = try await PostgresQueueManager(
                    client: client, host: host, leaseDuration: leaseDuration,
                    configuration: configuration, logger: logger)
                return .success(try await body(manager))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Whether `location` names a PostgreSQL queue rather than a SQLite file.
    public static func isURL(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// The client settings a queue URL gives.
    static func clientConfiguration(url: String) throws(QueueError) -> PostgresClient.Configuration {
        let shown = redacted(url)
        guard isURL(url), let parts = URLComponents(string: url), let server = parts.host, !server.isEmpty else {
            throw .invalidArgument("not a postgres://user@host[:port]/database URL: \(shown)", value: shown)
        }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidArgument("the URL names no database (postgres://user@host/DATABASE): \(shown)", value: shown)
        }
        for item in parts.queryItems ?? [] where !(item.name == "sslmode" && item.value == "disable") {
            throw .invalidArgument("unsupported URL parameter \(item.name)=\(item.value ?? ""): only sslmode=disable is supported", value: shown)
        }
        return PostgresClient.Configuration(
            host: server, port: parts.port ?? 5432, username: parts.user ?? "postgres",
            password: parts.password, database: database, tls: .disable)
    }

    /// The URL with its password replaced by `***`, for messages and logs.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? "postgres://***"
    }
}
