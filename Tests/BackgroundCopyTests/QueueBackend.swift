import BackgroundCopyTesting
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import BackgroundCopy

/// The store a parameterised test runs against: the same calls, the same expectations.
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh, empty queue of this backend: a SQLite file in a scratch directory,
    /// or a fresh database on the process's throwaway PostgreSQL cluster. Local paths go to the
    /// scratch directory either way.
    func withQueue<T: Sendable>(
        _ configuration: QueueManager.Configuration = .init(), _ body: @Sendable (any QueueUnderTest) async throws -> T
    ) async throws -> T {
        let scratch = Scratch()
        switch self {
        case .sqlite:
            return try await body(SQLiteQueue(scratch: scratch, manager: try scratch.open(configuration)))
        case .postgres:
            return try await PostgresQueue.with(migrate: false) { queue in
                let manager = try await PostgresQueueManager(
                    client: queue.client, host: "test-host", configuration: configuration, logger: scratch.logger)
                return try await body(PostgresQueueUnderTest(scratch: scratch, queue: queue, manager: manager))
            }
        }
    }
}

/// A queue of either backend, through the calls the backend-parameterised tests make: the public
/// API's (async forms), the engine's steps, and raw reads of the stored rows.
protocol QueueUnderTest: Sendable {
    var backend: Backend { get }
    var scratch: Scratch { get }
    /// The engine's steps on this queue (this host's, on PostgreSQL).
    var ledger: any EngineLedger { get }

    @discardableResult
    func createGroup(id: GroupID?, properties: GroupProperties) async throws(QueueError) -> any GroupUnderTest
    func group(_ id: GroupID) async throws(QueueError) -> any GroupUnderTest
    func groups() async throws(QueueError) -> [GroupID]

    /// The rows of `sql` (written in the SQL both backends speak), every column as text.
    func rows(_ sql: String) async throws -> [[String]]
    /// Every row of every table, as text, in a fixed order: equal digests mean equal content.
    func digest() async throws -> String
}

/// A group of either backend (``Group`` or ``PostgresGroup``).
protocol GroupUnderTest: Sendable {
    var id: GroupID { get }
    func properties() async throws(QueueError) -> GroupProperties
    func setProperties(_ properties: GroupProperties) async throws(QueueError)
    func progress() async throws(QueueError) -> TransferProgress
    func status() async throws(QueueError) -> GroupStatus
    /// `createJob(id:)` (named apart from it: the handles' own method returns their own job type).
    @discardableResult
    func addJob(id: JobID?) async throws(QueueError) -> any JobUnderTest
    /// `job(_:)`.
    func openJob(_ id: JobID) async throws(QueueError) -> any JobUnderTest
    /// `jobs()`, as IDs.
    func jobIDs() async throws(QueueError) -> [JobID]
    func resume() async throws(QueueError)
    func suspend() async throws(QueueError)
    func switchToForeground() async throws(QueueError)
    func cancel() async throws(QueueError)
}

/// A job of either backend (``Job`` or ``PostgresJob``).
protocol JobUnderTest: Sendable {
    var id: JobID { get }
    func addFiles(_ files: [FileSpec]) async throws(QueueError)
    func file(at index: Int) async throws(QueueError) -> FileInfo
    func files() async throws(QueueError) -> [FileInfo]
    func fileCount() async throws(QueueError) -> Int
    func progress() async throws(QueueError) -> TransferProgress
    func status() async throws(QueueError) -> JobStatus
    func cancel() async throws(QueueError)
}

extension QueueUnderTest {
    @discardableResult
    func createGroup(properties: GroupProperties) async throws(QueueError) -> any GroupUnderTest {
        try await createGroup(id: nil, properties: properties)
    }

    /// A group named `name` with one empty job.
    func groupWithJob(_ name: String) async throws(QueueError) -> (group: any GroupUnderTest, job: any JobUnderTest) {
        let group = try await createGroup(properties: GroupProperties(displayName: name))
        return (group, try await group.addJob())
    }

    /// Claims the next file, writes `content` (or its first half) to its temp file, checkpoints it
    /// and, unless `partial`, finalizes, renames and completes it, as the engine would.
    @discardableResult
    func transferNextFile(content: [UInt8], partial: Bool = false, filesPerGroup: Int = 1) async throws -> Claim? {
        guard let claim = try await ledger.claimNextFile(filesPerGroup: filesPerGroup, foregroundOnly: false, alsoGroup: nil) else {
            return nil
        }
        let bytes = partial ? Array(content.prefix(content.count / 2)) : content
        _ = FileManager.default.createFile(atPath: claim.tempPath, contents: Data(bytes))
        #expect(
            try await ledger.checkpoint(
                claim.fileRowID, bytesDone: UInt64(bytes.count), bytesTotal: UInt64(content.count), validator: "\"v1\"",
                progressAbove: 0))
        if partial { return claim }
        #expect(try await ledger.beginFinalizing(claim.fileRowID, bytesTotal: UInt64(content.count)))
        try FileManager.default.moveItem(atPath: claim.tempPath, toPath: claim.local)
        try await ledger.complete(claim.fileRowID)
        return claim
    }
}

extension GroupUnderTest {
    @discardableResult
    func addJob() async throws(QueueError) -> any JobUnderTest { try await addJob(id: nil) }
}

// MARK: SQLite

struct SQLiteQueue: QueueUnderTest {
    let scratch: Scratch
    let manager: QueueManager

    var backend: Backend { .sqlite }
    var ledger: any EngineLedger { TransferLedger(core: manager.core) }

    func createGroup(id: GroupID?, properties: GroupProperties) async throws(QueueError) -> any GroupUnderTest {
        try await manager.createGroup(id: id, properties: properties)
    }

    func group(_ id: GroupID) async throws(QueueError) -> any GroupUnderTest { try await manager.group(id) }

    func groups() async throws(QueueError) -> [GroupID] { try await manager.groups().map(\.id) }

    func rows(_ sql: String) async throws -> [[String]] { try query(scratch.database, sql) }

    func digest() async throws -> String { try tableDigest(scratch.database) }
}

extension Group: GroupUnderTest {
    func addJob(id: JobID?) async throws(QueueError) -> any JobUnderTest { try await createJob(id: id) }

    func openJob(_ id: JobID) async throws(QueueError) -> any JobUnderTest { try await job(id) }

    func jobIDs() async throws(QueueError) -> [JobID] { try await jobs().map(\.id) }
}

extension Job: JobUnderTest {}

// MARK: PostgreSQL

struct PostgresQueueUnderTest: QueueUnderTest {
    let scratch: Scratch
    let queue: PostgresQueue
    let manager: PostgresQueueManager
    /// One ledger for the whole test: it remembers the leases (fencing tokens) it was given.
    let ledger: any EngineLedger

    init(scratch: Scratch, queue: PostgresQueue, manager: PostgresQueueManager) {
        self.scratch = scratch
        self.queue = queue
        self.manager = manager
        ledger = manager.engineLedger
    }

    var backend: Backend { .postgres }

    func createGroup(id: GroupID?, properties: GroupProperties) async throws(QueueError) -> any GroupUnderTest {
        try await manager.createGroup(id: id, properties: properties)
    }

    func group(_ id: GroupID) async throws(QueueError) -> any GroupUnderTest { try await manager.group(id) }

    func groups() async throws(QueueError) -> [GroupID] { try await manager.groups().map(\.id) }

    /// Through `psql`, each row's columns joined by `|` in order (`json` keeps the column order);
    /// NULL reads as `NULL`, as on SQLite.
    func rows(_ sql: String) async throws -> [[String]] {
        let joined = """
            SELECT (SELECT string_agg(coalesce(c.value, 'NULL'), '|' ORDER BY c.n)
                    FROM json_each_text(row_to_json(t)) WITH ORDINALITY AS c(key, value, n))
            FROM (\(sql)) t
            """
        let output = try queue.cluster.psql(database: queue.database, command: joined)
        return output.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }.map {
            $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Every row of every table of the queue's schema and the fencing-token sequence, as text.
    func digest() async throws -> String {
        let tables = try queue.cluster.psql(
            database: queue.database,
            command: "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        ).split(separator: "\n").map(String.init)
        let union = tables.map { "SELECT '\($0)' AS name, t::text AS row FROM \($0) t" }.joined(separator: " UNION ALL ")
        return try queue.cluster.psql(
            database: queue.database,
            command: "SELECT name || ': ' || row FROM (\(union)) d UNION ALL SELECT 'lease_tokens: ' || last_value FROM lease_tokens ORDER BY 1")
    }
}

extension PostgresGroup: GroupUnderTest {
    func addJob(id: JobID?) async throws(QueueError) -> any JobUnderTest { try await createJob(id: id) }

    func openJob(_ id: JobID) async throws(QueueError) -> any JobUnderTest { try await job(id) }

    func jobIDs() async throws(QueueError) -> [JobID] { try await jobs().map(\.id) }
}

extension PostgresJob: JobUnderTest {}
