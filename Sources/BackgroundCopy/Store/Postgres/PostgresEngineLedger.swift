import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The engine's steps on a PostgreSQL queue (``EngineLedger``) for one host: every file it claims
/// is held under a lease (``PostgresLease``), and every later step about the file presents the
/// lease's fencing token. A step whose token is no longer the file's — the file was suspended,
/// cancelled, or taken over by another host after this one stalled — changes nothing and answers
/// as the SQLite ledger does for a file that is no longer claimed (`false`, or `invalidState` from
/// ``complete(_:)``), so the worker stops exactly as it would there.
///
/// The tokens this host holds are kept here, by file; ``renewHeld()`` extends all their leases in
/// one statement and names the files whose lease was lost.
package struct PostgresEngineLedger: EngineLedger {
    let leases: PostgresLeaseLedger
    /// This host's name, recorded with each lease it holds.
    package let host: String
    /// How long a lease lasts unless renewed (by a checkpoint, or ``renewHeld()``).
    package let leaseDuration: Duration
    private let held = HeldLeases()

    var store: PostgresStore { leases.store }
    var logger: Logger { leases.store.logger }

    init(leases: PostgresLeaseLedger, host: String, leaseDuration: Duration) {
        self.leases = leases
        self.host = host
        self.leaseDuration = leaseDuration
    }

    /// The fencing token under which this host holds `file`, if it does.
    func token(_ file: Int64) -> Int64? { held.token(file) }

    /// Forgets the lease of a file this host no longer transfers (its worker ended).
    func forget(_ file: Int64) { held.remove(file) }

    /// Claims up to `limit` files in scheduler order — queued ones and ones whose lease expired —
    /// under new leases for this host, in one transaction.
    func claim(limit: Int) async throws(QueueError) -> [LeasedClaim] {
        let claimed = try await uncancelled { () async throws(QueueError) in try await leases.claim(host: host, limit: limit, leaseDuration: leaseDuration) }
        for leased in claimed { held.insert(leased.claim.fileRowID, leased.lease.token) }
        return claimed
    }

    /// Extends the lease of every file this host holds; returns the files whose lease was lost
    /// (and forgets them): their transfers must stop.
    func renewHeld() async throws(QueueError) -> [Int64] {
        let mine = held.all
        guard !mine.isEmpty else { return [] }
        let ids = mine.map(\.file)
        let tokens = mine.map(\.token)
        let milliseconds = leaseDuration.milliseconds
        let fence = PostgresLeaseLedger.fence("f", "t.token")
        let renewed = try await transaction { db throws(QueueError) -> Set<Int64> in
            let rows = try await db.run(
                """
                UPDATE files f SET lease_expires_at = now() + \(milliseconds)::float8 * interval '1 millisecond'
                FROM unnest(\(ids)::bigint[], \(tokens)::bigint[]) AS t(id, token)
                WHERE f.id = t.id AND \(unescaped: fence)
                RETURNING f.id
                """, logger: logger)
            var renewed: Set<Int64> = []
            for row in rows { renewed.insert(try row.value(Int64.self)) }
            return renewed
        }
        let lost = ids.filter { !renewed.contains($0) }
        for file in lost {
            logger.info("lease lost: a renewal was refused", metadata: ["file": "\(file)", "host": "\(host)"])
            held.remove(file)
        }
        return lost
    }

    package func claimNextFile(filesPerGroup: Int, foregroundOnly: Bool, alsoGroup: Int64?) async throws(QueueError) -> Claim? {
        try await claim(limit: 1).first?.claim
    }

    package func checkpoint(
        _ fileRowID: Int64, bytesDone: UInt64, bytesTotal: UInt64?, validator: String?,
        progressAbove: UInt64
    ) async throws(QueueError) -> Bool {
        guard let token = held.token(fileRowID) else { return false }
        return try await fenced(fileRowID) { () async throws(QueueError) in
            try await leases.checkpoint(
                file: fileRowID, token: token, bytesDone: bytesDone, bytesTotal: bytesTotal, validator: validator,
                progressAbove: progressAbove, leaseDuration: leaseDuration)
        }
    }

    package func beginFinalizing(_ fileRowID: Int64, bytesTotal: UInt64) async throws(QueueError) -> Bool {
        guard let token = held.token(fileRowID) else { return false }
        return try await fenced(fileRowID) { () async throws(QueueError) in
            try await leases.beginFinalizing(file: fileRowID, token: token, bytesTotal: bytesTotal, leaseDuration: leaseDuration)
        }
    }

    package func complete(_ fileRowID: Int64) async throws(QueueError) {
        guard let token = held.token(fileRowID),
            try await fenced(fileRowID, { () async throws(QueueError) in try await leases.complete(file: fileRowID, token: token) })
        else {
            throw QueueError(.invalidState, "file \(fileRowID) is no longer this host's to complete", value: "\(fileRowID)")
        }
        held.remove(fileRowID)
    }

    /// Runs a step under the file's token: `false` (and the lease forgotten) if the token was stale.
    private func fenced(_ fileRowID: Int64, _ step: @escaping @Sendable () async throws(QueueError) -> Void) async throws(QueueError) -> Bool {
        do throws(QueueError) {
            try await uncancelled(step)
            return true
        } catch let error where error.code == .leaseLost {
            logger.info("lease lost: a commit was refused", metadata: ["file": "\(fileRowID)", "host": "\(host)", "error": "\(error.message)"])
            held.remove(fileRowID)
            return false
        }
    }
}

extension PostgresEngineLedger {
    /// Runs `body` in one transaction that the calling task's cancellation does not stop, as a
    /// SQLite write is not stopped: a transfer the engine stops (by cancelling its task) must still
    /// record how it ended, and postgres-nio refuses a connection to a cancelled task.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws(QueueError) -> T) async throws(QueueError) -> T {
        let store = store
        return try await uncancelled { () async throws(QueueError) in try await store.transaction(body) }
    }

    /// Runs `step` (one transaction) to its end in a task of its own, whatever becomes of the
    /// calling task. A transaction PostgreSQL rolled back as a deadlock victim (`40P01`) or for a
    /// serialization failure (`40001`) changed nothing and runs again, up to ``retries`` times.
    func uncancelled<T: Sendable>(_ step: @escaping @Sendable () async throws(QueueError) -> T) async throws(QueueError) -> T {
        let logger = logger
        let outcome = await Task { () -> Result<T, QueueError> in
            var attempt = 0
            while true {
                do throws(QueueError) {
                    return .success(try await step())
                } catch let error where Self.rolledBack.contains(error.value ?? "") && attempt < Self.retries {
                    attempt += 1
                    logger.info("transaction rolled back by PostgreSQL, running it again", metadata: ["error": "\(error.message)"])
                    try? await Task.sleep(for: .milliseconds(10 * attempt))  // never cancelled: this task is nobody's child
                } catch {
                    return .failure(error)
                }
            }
        }.value
        return try outcome.get()
    }

    /// SQLSTATEs of a transaction PostgreSQL rolled back whole, which may simply run again.
    static let rolledBack: Set<String> = ["40P01", "40001"]
    /// How many times such a transaction runs again before its failure is thrown.
    static let retries = 10
}

/// The leases one host holds: file row ID → fencing token.
final class HeldLeases: Sendable {
    private let tokens = Mutex<[Int64: Int64]>([:])

    func token(_ file: Int64) -> Int64? { tokens.withLock { $0[file] } }
    func insert(_ file: Int64, _ token: Int64) { tokens.withLock { $0[file] = token } }
    func remove(_ file: Int64) { tokens.withLock { $0[file] = nil } }
    var all: [(file: Int64, token: Int64)] { tokens.withLock { $0.map { ($0.key, $0.value) } } }
}
