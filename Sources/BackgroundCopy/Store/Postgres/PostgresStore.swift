import Logging
import PostgresNIO

/// The queue's PostgreSQL database (DESIGN.md, Scale-out): the second backend behind the store
/// layer, for one queue that engines on many hosts drain together.
///
/// It wraps a `PostgresClient` (postgres-nio's connection pool) that the host creates and runs —
/// `client.run()` in a task of its own, or as a swift-service-lifecycle `Service` — and runs each
/// operation as **one transaction on one pooled connection** (``transaction(_:)``), the
/// counterpart of the SQLite ``Store/write(_:)``: a body that throws leaves nothing behind, and the
/// call returns only after PostgreSQL acknowledged the `COMMIT` (durable with the server's
/// `synchronous_commit = on`, its default). Transactions run at READ COMMITTED; the operations take
/// their row locks in one order — files, then their groups by row ID — so they never deadlock one
/// another (see ``PostgresLeaseLedger``).
///
/// How it meets the SQLite store: the SQLite side is synchronous-or-async closures over a
/// `Connection` batched by one writer thread; this side is `async` closures over a pooled
/// `PostgresConnection`. Both sit under one set of named operations (claim, checkpoint,
/// finalize, complete, fail, cancel, …), which `Queue/` and `Engine/` reach through a protocol
/// with an implementation per backend; the operations here are that protocol's PostgreSQL side for
/// the engine's file lifecycle, with the lease and fencing token the SQLite backend does not need
/// (one host, one engine per database).
final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    init(client: PostgresClient, logger: Logger = Logger(label: "BackgroundCopy.Postgres")) {
        self.client = client
        self.logger = logger
    }

    /// Brings the database to the latest PostgreSQL schema (``PostgresMigrator``).
    func migrate() async throws(QueueError) {
        try await transaction { connection throws(QueueError) in
            try await PostgresMigrator(connection: connection, logger: logger).migrate()
        }
    }

    /// Runs `body` in one transaction on a pooled connection: `BEGIN`, the body, `COMMIT`; a body
    /// that throws is rolled back and its error rethrown. Returns after the commit.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws(QueueError) -> T) async throws(QueueError) -> T {
        let logger = logger
        let outcome: Result<T, QueueError>
        do {
            outcome = try await client.withConnection { connection in
                await PostgresStore.transaction(on: connection, logger: logger, body)
            }
        } catch {
            throw QueueError.postgres(error, while: "leasing a connection from the pool")
        }
        return try outcome.get()
    }

    /// The transaction itself, as a `Result` so its typed error crosses postgres-nio's untyped
    /// `withConnection` unchanged.
    static func transaction<T>(
        on connection: PostgresConnection, logger: Logger, _ body: @Sendable (PostgresConnection) async throws(QueueError) -> T
    ) async -> Result<T, QueueError> {
        do throws(QueueError) {
            try await connection.run("BEGIN", logger: logger)
        } catch {
            return .failure(error)
        }
        do throws(QueueError) {
            let value = try await body(connection)
            try await connection.run("COMMIT", logger: logger)
            return .success(value)
        } catch {
            // After a failed statement the transaction is aborted; ROLLBACK ends it so the pooled
            // connection is clean. If even that fails the connection is broken and the pool drops it.
            _ = try? await connection.run("ROLLBACK", logger: logger)  // the caller gets the body's error; the pool drops a connection whose ROLLBACK failed
            return .failure(error)
        }
    }
}

extension PostgresConnection {
    /// Runs one statement and returns all its rows; any failure becomes a `storage` error naming
    /// the statement.
    @discardableResult
    func run(_ query: PostgresQuery, logger: Logger) async throws(QueueError) -> [PostgresRow] {
        do {
            var rows: [PostgresRow] = []
            for try await row in try await self.query(query, logger: logger) { rows.append(row) }
            return rows
        } catch {
            throw QueueError.postgres(error, sql: query.sql)
        }
    }
}

extension PostgresRow {
    /// The row's one column as a Swift value; a type mismatch is a `storage` error.
    func value<Column: PostgresDecodable>(_ type: Column.Type) throws(QueueError) -> Column {
        do {
            return try decode(type)
        } catch {
            throw QueueError.postgres(error, while: "decoding a row")
        }
    }

    /// The row's columns as Swift values; a type mismatch is a `storage` error.
    func values<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws(QueueError) -> (repeat each Column) {
        do {
            return try decode(types)
        } catch {
            throw QueueError.postgres(error, while: "decoding a row")
        }
    }
}

extension QueueError {
    /// A PostgreSQL failure as a `storage` error: the server's SQLSTATE and message when it sent
    /// them (``value`` is the SQLSTATE, e.g. `23505`), else what failed on the client's side.
    static func postgres(_ error: any Error, sql: String? = nil, while doing: String? = nil) -> QueueError {
        if let error = error as? QueueError { return error }
        guard let error = error as? PSQLError else {
            return QueueError(.storage, "PostgreSQL: \(doing.map { $0 + ": " } ?? "")\(error)", sql: sql)
        }
        let state = error.serverInfo?[.sqlState]
        let message = error.serverInfo?[.message] ?? "\(error.code)"
        let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
        return QueueError(
            .storage, "PostgreSQL \(state ?? "client") error\(doing.map { " while " + $0 } ?? ""): \(message)\(detail)",
            value: state, sql: sql)
    }
}

extension QueueError.Code {
    /// The caller no longer holds the file's lease: another host took it over (its fencing token
    /// is newer), or the file was released (suspended, cancelled, completed). What the caller was
    /// about to commit was not committed; it must stop transferring the file.
    package static let leaseLost = Self("leaseLost")
}
