import Foundation
import Logging
import PostgresNIO
import Synchronization
@testable import BackgroundCopy

/// The queue a sequence runs against, called synchronously from the sequence's own thread: the
/// public API's calls (by group and job ID, through handles that do not look the IDs up first),
/// the engine's steps, and the stored rows the model predicts.
protocol ModelQueue {
    var backend: Backend { get }

    func createGroup(id: UUID?, properties: GroupProperties) throws(QueueError) -> UUID
    func createJob(group: UUID, job: UUID?) throws(QueueError) -> UUID
    func addFiles(group: UUID, job: UUID, _ files: [FileSpec]) throws(QueueError)
    func suspend(group: UUID) throws(QueueError)
    func resume(group: UUID) throws(QueueError)
    func switchToForeground(group: UUID) throws(QueueError)
    func setProperties(group: UUID, _ properties: GroupProperties) throws(QueueError)
    func cancel(group: UUID) throws(QueueError)
    func cancel(group: UUID, job: UUID) throws(QueueError)
    func purgeTombstones(olderThan date: Date) throws(QueueError) -> Int

    func claimNextFile() throws(QueueError) -> Claim?
    func checkpoint(_ file: Int64, bytesDone: UInt64, bytesTotal: UInt64?, validator: String?) throws(QueueError) -> Bool
    func beginFinalizing(_ file: Int64, bytesTotal: UInt64) throws(QueueError) -> Bool
    func complete(_ file: Int64) throws(QueueError)
    func fail(_ file: Int64, error: QueueError, retries: Int) throws(QueueError) -> Bool
    func release(_ file: Int64) throws(QueueError)

    func groups() throws(QueueError) -> [UUID]
    /// Opens the group (`notFound` unless it is live).
    func lookUp(group: UUID) throws(QueueError)
    /// Opens the job of the group (`notFound` unless both are live).
    func lookUp(group: UUID, job: UUID) throws(QueueError)
    func status(group: UUID) throws(QueueError) -> GroupStatus
    func progress(group: UUID) throws(QueueError) -> TransferProgress
    func jobs(group: UUID) throws(QueueError) -> [UUID]
    func status(group: UUID, job: UUID) throws(QueueError) -> JobStatus
    func progress(group: UUID, job: UUID) throws(QueueError) -> TransferProgress

    /// The stored rows of `table` in the form ``ReferenceModel`` renders them.
    func rows(_ table: ModelTable) throws -> [String]
}

/// The tables the runner compares with the model after every operation.
enum ModelTable {
    case groups, jobs, files, events
}

/// The SQLite queue: the library's synchronous calls, its engine ledger, and a raw read-only
/// connection for the rows.
struct SQLiteModelQueue: ModelQueue {
    let manager: QueueManager
    let ledger: TransferLedger
    let raw: RawReader

    init(manager: QueueManager, database: String) throws {
        self.manager = manager
        ledger = TransferLedger(core: manager.core)
        raw = try RawReader(database)
    }

    var backend: Backend { .sqlite }

    private func group(_ id: UUID) -> Group { Group(id: GroupID(id), core: manager.core) }

    private func job(_ group: UUID, _ job: UUID) -> Job { Job(id: JobID(job), group: GroupID(group), core: manager.core) }

    func createGroup(id: UUID?, properties: GroupProperties) throws(QueueError) -> UUID {
        try manager.createGroup(id: id.map(GroupID.init), properties: properties).id.uuid
    }

    func createJob(group id: UUID, job: UUID?) throws(QueueError) -> UUID { try group(id).createJob(id: job.map(JobID.init)).id.uuid }
    func addFiles(group: UUID, job id: UUID, _ files: [FileSpec]) throws(QueueError) { try job(group, id).addFiles(files) }
    func suspend(group id: UUID) throws(QueueError) { try group(id).suspend() }
    func resume(group id: UUID) throws(QueueError) { try group(id).resume() }
    func switchToForeground(group id: UUID) throws(QueueError) { try group(id).switchToForeground() }
    func setProperties(group id: UUID, _ properties: GroupProperties) throws(QueueError) { try group(id).setProperties(properties) }
    func cancel(group id: UUID) throws(QueueError) { try group(id).cancel() }
    func cancel(group: UUID, job id: UUID) throws(QueueError) { try job(group, id).cancel() }
    func purgeTombstones(olderThan date: Date) throws(QueueError) -> Int { try manager.purgeTombstones(olderThan: date) }

    func claimNextFile() throws(QueueError) -> Claim? { try ledger.claimNextFile() }
    func checkpoint(_ file: Int64, bytesDone: UInt64, bytesTotal: UInt64?, validator: String?) throws(QueueError) -> Bool {
        try ledger.checkpoint(file, bytesDone: bytesDone, bytesTotal: bytesTotal, validator: validator)
    }
    func beginFinalizing(_ file: Int64, bytesTotal: UInt64) throws(QueueError) -> Bool { try ledger.beginFinalizing(file, bytesTotal: bytesTotal) }
    func complete(_ file: Int64) throws(QueueError) { try ledger.complete(file) }
    func fail(_ file: Int64, error: QueueError, retries: Int) throws(QueueError) -> Bool { try ledger.fail(file, error: error, retries: retries) }
    func release(_ file: Int64) throws(QueueError) { try ledger.release(file) }

    func groups() throws(QueueError) -> [UUID] { try manager.groups().map(\.id.uuid) }
    func lookUp(group id: UUID) throws(QueueError) { _ = try manager.group(GroupID(id)) }
    func lookUp(group id: UUID, job: UUID) throws(QueueError) { _ = try group(id).job(JobID(job)) }
    func status(group id: UUID) throws(QueueError) -> GroupStatus { try group(id).status() }
    func progress(group id: UUID) throws(QueueError) -> TransferProgress { try group(id).progress() }
    func jobs(group id: UUID) throws(QueueError) -> [UUID] { try group(id).jobs().map(\.id.uuid) }
    func status(group: UUID, job id: UUID) throws(QueueError) -> JobStatus { try job(group, id).status() }
    func progress(group: UUID, job id: UUID) throws(QueueError) -> TransferProgress { try job(group, id).progress() }

    func rows(_ table: ModelTable) throws -> [String] {
        switch table {
        case .groups: try raw.rows("SELECT hex(uuid), state, priority, error_count FROM groups ORDER BY id")
        case .jobs: try raw.rows("SELECT hex(j.uuid), hex(g.uuid), j.state FROM jobs j JOIN groups g ON g.id = j.group_id ORDER BY j.id")
        case .files:
            try raw.rows(
                """
                SELECT f.id, hex(j.uuid), f.position, f.local_path, f.state, f.bytes_done, f.bytes_total, f.size_hint, f.temp_path
                FROM files f JOIN jobs j ON j.id = f.job_id ORDER BY j.id, f.position
                """)
        case .events:
            try raw.rows(
                """
                SELECT hex(g.uuid), CASE WHEN j.uuid IS NULL THEN NULL ELSE hex(j.uuid) END, e.file_index, e.kind
                FROM events e JOIN groups g ON g.id = e.group_id LEFT JOIN jobs j ON j.id = e.job_id ORDER BY e.seq
                """)
        }
    }
}

/// The PostgreSQL queue: the library's async calls and this host's engine ledger, each awaited
/// from the sequence's own thread (never a thread of the cooperative pool), and the rows through
/// the test's client.
struct PostgresModelQueue: ModelQueue, Sendable {
    let manager: PostgresQueueManager
    let ledger: PostgresEngineLedger
    let client: PostgresClient

    init(manager: PostgresQueueManager, client: PostgresClient) {
        self.manager = manager
        ledger = manager.engineLedger
        self.client = client
    }

    var backend: Backend { .postgres }

    private func group(_ id: UUID) -> PostgresGroup { PostgresGroup(id: GroupID(id), manager: manager) }

    private func job(_ group: UUID, _ job: UUID) -> PostgresJob { PostgresJob(id: JobID(job), groupID: GroupID(group), manager: manager) }

    func createGroup(id: UUID?, properties: GroupProperties) throws(QueueError) -> UUID {
        try blocking { () async throws(QueueError) in try await manager.createGroup(id: id.map(GroupID.init), properties: properties).id.uuid }
    }

    func createJob(group id: UUID, job: UUID?) throws(QueueError) -> UUID {
        try blocking { () async throws(QueueError) in try await group(id).createJob(id: job.map(JobID.init)).id.uuid }
    }

    func addFiles(group: UUID, job id: UUID, _ files: [FileSpec]) throws(QueueError) {
        try blocking { () async throws(QueueError) in try await job(group, id).addFiles(files) }
    }

    func suspend(group id: UUID) throws(QueueError) { try blocking { () async throws(QueueError) in try await group(id).suspend() } }
    func resume(group id: UUID) throws(QueueError) { try blocking { () async throws(QueueError) in try await group(id).resume() } }
    func switchToForeground(group id: UUID) throws(QueueError) {
        try blocking { () async throws(QueueError) in try await group(id).switchToForeground() }
    }
    func setProperties(group id: UUID, _ properties: GroupProperties) throws(QueueError) {
        try blocking { () async throws(QueueError) in try await group(id).setProperties(properties) }
    }
    func cancel(group id: UUID) throws(QueueError) { try blocking { () async throws(QueueError) in try await group(id).cancel() } }
    func cancel(group: UUID, job id: UUID) throws(QueueError) { try blocking { () async throws(QueueError) in try await job(group, id).cancel() } }

    func purgeTombstones(olderThan date: Date) throws(QueueError) -> Int {
        try blocking { () async throws(QueueError) in try await manager.purgeTombstones(olderThan: date) }
    }

    func claimNextFile() throws(QueueError) -> Claim? { try blocking { () async throws(QueueError) in try await ledger.claimNextFile() } }
    func checkpoint(_ file: Int64, bytesDone: UInt64, bytesTotal: UInt64?, validator: String?) throws(QueueError) -> Bool {
        try blocking { () async throws(QueueError) in
            try await ledger.checkpoint(file, bytesDone: bytesDone, bytesTotal: bytesTotal, validator: validator, progressAbove: 0)
        }
    }
    func beginFinalizing(_ file: Int64, bytesTotal: UInt64) throws(QueueError) -> Bool {
        try blocking { () async throws(QueueError) in try await ledger.beginFinalizing(file, bytesTotal: bytesTotal) }
    }
    func complete(_ file: Int64) throws(QueueError) { try blocking { () async throws(QueueError) in try await ledger.complete(file) } }
    func fail(_ file: Int64, error: QueueError, retries: Int) throws(QueueError) -> Bool {
        try blocking { () async throws(QueueError) in try await ledger.fail(file, error: error, retries: retries) }
    }
    func release(_ file: Int64) throws(QueueError) {
        try blocking { () async throws(QueueError) in _ = try await ledger.release(file, bytesDone: nil) }
    }

    func groups() throws(QueueError) -> [UUID] { try blocking { () async throws(QueueError) in try await manager.groups().map(\.id.uuid) } }
    func lookUp(group id: UUID) throws(QueueError) {
        try blocking { () async throws(QueueError) in _ = try await manager.group(GroupID(id)) }
    }
    func lookUp(group id: UUID, job: UUID) throws(QueueError) {
        try blocking { () async throws(QueueError) in _ = try await group(id).job(JobID(job)) }
    }
    func status(group id: UUID) throws(QueueError) -> GroupStatus { try blocking { () async throws(QueueError) in try await group(id).status() } }
    func progress(group id: UUID) throws(QueueError) -> TransferProgress {
        try blocking { () async throws(QueueError) in try await group(id).progress() }
    }
    func jobs(group id: UUID) throws(QueueError) -> [UUID] {
        try blocking { () async throws(QueueError) in try await group(id).jobs().map(\.id.uuid) }
    }
    func status(group: UUID, job id: UUID) throws(QueueError) -> JobStatus {
        try blocking { () async throws(QueueError) in try await job(group, id).status() }
    }
    func progress(group: UUID, job id: UUID) throws(QueueError) -> TransferProgress {
        try blocking { () async throws(QueueError) in try await job(group, id).progress() }
    }

    /// The same rows as on SQLite, in SQLite's rendering: UUIDs as upper-case hex, NULL as `NULL`.
    func rows(_ table: ModelTable) throws(QueueError) -> [String] {
        let hex = { (column: String) in "upper(replace(\(column)::text, '-', ''))" }
        let sql =
            switch table {
            case .groups: "SELECT \(hex("uuid")), state, priority, error_count FROM groups ORDER BY id"
            case .jobs: "SELECT \(hex("j.uuid")), \(hex("g.uuid")), j.state FROM jobs j JOIN groups g ON g.id = j.group_id ORDER BY j.id"
            case .files:
                """
                SELECT f.id, \(hex("j.uuid")), f.position, f.local_path, f.state, f.bytes_done, f.bytes_total, f.size_hint, f.temp_path
                FROM files f JOIN jobs j ON j.id = f.job_id ORDER BY j.id, f.position
                """
            case .events:
                """
                SELECT \(hex("g.uuid")), \(hex("j.uuid")), e.file_index, e.kind
                FROM events e JOIN groups g ON g.id = e.group_id LEFT JOIN jobs j ON j.id = e.job_id ORDER BY e.seq
                """
            }
        // Every column as text, joined in order; `json` keeps the columns' order.
        let joined = """
            SELECT (SELECT string_agg(coalesce(c.value, 'NULL'), '|' ORDER BY c.n)
                    FROM json_each_text(row_to_json(t)) WITH ORDINALITY AS c(key, value, n))
            FROM (\(sql)) t
            """
        let client = client
        return try blocking { () async throws(QueueError) in
            do {
                var rows: [String] = []
                for try await row in try await client.query(PostgresQuery(unsafeSQL: joined)).decode(String.self) { rows.append(row) }
                return rows
            } catch {
                throw QueueError.postgres(error, sql: joined)
            }
        }
    }
}

/// Runs `body` to its end on the cooperative pool and waits for it on the calling thread, which
/// must be a thread of its own (a sequence's), never one of the pool's.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws(QueueError) -> T) throws(QueueError) -> T {
    let done = DispatchSemaphore(value: 0)
    let outcome = Outcome<T>()
    Task {
        let result: Result<T, QueueError>
        do throws(QueueError) {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        outcome.result.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return try outcome.result.withLock { $0 }!.get()
}

/// Where a ``blocking(_:)`` call's task leaves its result.
private final class Outcome<T: Sendable>: Sendable {
    let result = Mutex<Result<T, QueueError>?>(nil)
}
