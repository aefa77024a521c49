import Foundation
import Logging
import PostgresNIO

/// The transfer engine's side of a PostgreSQL queue: claims under leases, and every later step of
/// a file's transfer committed only under the claim's fencing token (``PostgresLease``). The
/// counterpart of ``TransferLedger`` (SQLite), each call one transaction.
///
/// Locking: READ COMMITTED, row locks always taken files first, then their groups in row-ID order.
/// A claim locks its files with `FOR UPDATE SKIP LOCKED` (concurrent claimers pass each other by;
/// a file another claimer committed in between is re-checked by PostgreSQL and skipped), then
/// locks their groups with `FOR NO KEY UPDATE` in ID order — which serialises a claim against a
/// suspend or cancel of the same group: a group no longer runnable by then keeps its files. A
/// complete locks its file, then its group, before asking whether anything is left, so two hosts
/// completing a group's last two files cannot both miss that the group is done.
///
/// What the rest of the backend must keep: suspend, cancel and fail release the leases of the
/// files they stop (the lease columns are NULL outside `transferring`/`finalizing`, a CHECK of the
/// schema), which is what makes the holder's next checkpoint or renewal throw `leaseLost` and so
/// stops the transfer on whichever host runs it.
package struct PostgresLeaseLedger: Sendable {
    let store: PostgresStore
    /// Wall-clock time in Unix milliseconds for the rows' timestamps (the SQLite store's clock);
    /// leases use the server's clock instead.
    let now: @Sendable () -> Int64

    init(store: PostgresStore, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.store = store
        self.now = now
    }

    /// Claims up to `limit` files for `host`, in scheduler order (groups by priority then age,
    /// jobs and files in order): queued files of runnable (`queued`/`transferring`, not waiting for
    /// a retry) groups, and files whose lease has expired. Each gets a lease of `leaseDuration`
    /// and a new fencing token; their groups become `transferring`. One transaction.
    package func claim(host: String, limit: Int, leaseDuration: Duration) async throws(QueueError) -> [LeasedClaim] {
        try await claim(host: host, limit: limit, leaseDuration: leaseDuration, queued: true)
    }

    /// Takes over up to `limit` files whose lease expired (their host died or stalled), in
    /// scheduler order, with new leases and higher tokens; queued files are left alone.
    package func takeOverExpired(host: String, limit: Int, leaseDuration: Duration) async throws(QueueError) -> [LeasedClaim] {
        try await claim(host: host, limit: limit, leaseDuration: leaseDuration, queued: false)
    }

    private func claim(host: String, limit: Int, leaseDuration: Duration, queued: Bool) async throws(QueueError) -> [LeasedClaim] {
        guard limit > 0 else { return [] }
        let now = self.now()
        let milliseconds = Self.milliseconds(leaseDuration)
        let limit = Int64(limit)
        return try await store.transaction { db throws(QueueError) in
            let logger = store.logger
            let candidates = try await db.run(
                """
                SELECT f.id, j.group_id, f.local_path, f.lease_host, f.state = 'finalizing'
                FROM groups g
                JOIN jobs j ON j.group_id = g.id AND j.state = 'active'
                JOIN files f ON f.job_id = j.id
                WHERE g.state IN ('queued', 'transferring') AND (g.retry_at IS NULL OR g.retry_at <= \(now))
                  AND ((\(queued) AND f.state = 'queued')
                       OR (f.state IN ('transferring', 'finalizing') AND f.lease_expires_at < now()))
                ORDER BY g.priority, g.id, j.id, f.position
                LIMIT \(limit)
                FOR UPDATE OF f SKIP LOCKED
                """, logger: logger)
            var files: [(id: Int64, group: Int64, local: String, previous: String?, finalizing: Bool)] = []
            for row in candidates {
                let (id, group, local, previous, finalizing) = try row.values((Int64, Int64, String, String?, Bool).self)
                files.append((id, group, local, previous, finalizing))
            }
            guard !files.isEmpty else { return [] }
            let groupIDs = Array(Set(files.map(\.group))).sorted()
            let groupRows = try await db.run(
                """
                WITH runnable AS (
                    SELECT id FROM groups WHERE id = ANY(\(groupIDs)) AND state IN ('queued', 'transferring')
                    ORDER BY id FOR NO KEY UPDATE
                )
                UPDATE groups g SET state = 'transferring', modified_at = \(now), progress_at = coalesce(g.progress_at, \(now))
                FROM runnable WHERE g.id = runnable.id
                RETURNING g.id, g.uuid, g.priority::bigint, g.http_headers
                """, logger: logger)
            var groups: [Int64: (uuid: UUID, priority: Int64, headers: String)] = [:]
            for row in groupRows {
                let (id, uuid, priority, headers) = try row.values((Int64, UUID, Int64, String).self)
                groups[id] = (uuid, priority, headers)
            }
            let claimed = files.filter { groups[$0.group] != nil }
            guard !claimed.isEmpty else { return [] }
            let ids = claimed.map(\.id)
            let temps = claimed.map { TransferLedger.tempPath(local: $0.local, fileRowID: $0.id) }
            let fileRows = try await db.run(
                """
                UPDATE files f SET state = CASE WHEN f.state = 'finalizing' THEN 'finalizing' ELSE 'transferring' END,
                       temp_path = coalesce(f.temp_path, t.temp), lease_host = \(host),
                       lease_expires_at = now() + \(milliseconds)::float8 * interval '1 millisecond',
                       lease_token = nextval('lease_tokens')
                FROM unnest(\(ids)::bigint[], \(temps)::text[]) AS t(id, temp)
                WHERE f.id = t.id
                RETURNING f.id, f.remote_url, f.local_path, f.temp_path, f.bytes_done, f.bytes_total, f.validator, f.sha256,
                          f.retries::bigint, f.lease_token, f.lease_expires_at
                """, logger: logger)
            var leased: [Int64: LeasedClaim] = [:]
            for row in fileRows {
                let (id, remote, local, temp, done, total, validator, sha256, retries, token, expires) =
                    try row.values((Int64, String, String, String, Int64, Int64?, String?, Data?, Int64, Int64, Date).self)
                guard let file = claimed.first(where: { $0.id == id }), let group = groups[file.group] else { continue }
                let claim = Claim(
                    fileRowID: id, groupRowID: file.group, groupID: GroupID(group.uuid),
                    priority: Priority(rawValue: Int(group.priority)) ?? .normal, headers: HeaderCoding.decode(group.headers),
                    retries: Int(retries), remote: remote, local: local, tempPath: temp,
                    bytesDone: UInt64(done), bytesTotal: total.map(UInt64.init), validator: validator,
                    sha256: sha256.map { [UInt8]($0) })
                leased[id] = LeasedClaim(
                    claim: claim, lease: PostgresLease(fileRowID: id, token: token, host: host, expiresAt: expires),
                    takenOverFrom: file.previous, finalizing: file.finalizing)
            }
            return claimed.compactMap { leased[$0.id] }
        }
    }

    /// Extends the lease by `leaseDuration` from now, if `token` is still the file's current one.
    ///
    /// - Throws: `leaseLost` (nothing changed) when it is not.
    @discardableResult
    package func renew(file: Int64, token: Int64, leaseDuration: Duration) async throws(QueueError) -> PostgresLease {
        let milliseconds = Self.milliseconds(leaseDuration)
        return try await store.transaction { db throws(QueueError) in
            let rows = try await db.run(
                """
                UPDATE files SET lease_expires_at = now() + \(milliseconds)::float8 * interval '1 millisecond'
                WHERE id = \(file) AND \(unescaped: Self.fence("files", "\(token)"))
                RETURNING lease_host, lease_expires_at
                """, logger: store.logger)
            guard let row = rows.first else { throw try await leaseLost(db, file: file, token: token) }
            let (host, expires) = try row.values((String, Date).self)
            return PostgresLease(fileRowID: file, token: token, host: host, expiresAt: expires)
        }
    }

    /// Commits durable progress (after the temp file was fsynced) and renews the lease, if `token`
    /// is still current. Only bytes beyond both the committed count and `progressAbove` count as
    /// progress: they reset the retry count and the no-progress clock and record a `progress` event.
    ///
    /// - Throws: `leaseLost` (nothing changed) when the token is no longer current.
    package func checkpoint(
        file: Int64, token: Int64, bytesDone: UInt64, bytesTotal: UInt64? = nil, validator: String? = nil,
        progressAbove: UInt64 = 0, leaseDuration: Duration
    ) async throws(QueueError) {
        let now = self.now()
        let milliseconds = Self.milliseconds(leaseDuration)
        let done = Int64(bytesDone)
        let total = bytesTotal.map(Int64.init)
        try await store.transaction { db throws(QueueError) in
            let logger = store.logger
            let held = try await db.run(
                """
                SELECT f.bytes_done, j.group_id, f.job_id, f.position::bigint FROM files f JOIN jobs j ON j.id = f.job_id
                WHERE f.id = \(file) AND \(unescaped: Self.fence("f", "\(token)")) AND f.state = 'transferring'
                FOR NO KEY UPDATE OF f
                """, logger: logger)
            guard let row = held.first else { throw try await leaseLost(db, file: file, token: token) }
            let (committed, group, job, position) = try row.values((Int64, Int64, Int64, Int64).self)
            let advanced = bytesDone > max(UInt64(committed), progressAbove)
            try await db.run(
                """
                UPDATE files SET bytes_done = \(done), bytes_total = coalesce(\(total), bytes_total),
                       validator = coalesce(\(validator), validator), retries = CASE WHEN \(advanced) THEN 0 ELSE retries END,
                       lease_expires_at = now() + \(milliseconds)::float8 * interval '1 millisecond'
                WHERE id = \(file)
                """, logger: logger)
            guard advanced else { return }
            try await db.run("UPDATE groups SET progress_at = \(now) WHERE id = \(group)", logger: logger)
            try await PostgresEventLog.record(
                db, logger: logger, .progress, group: group, job: job, fileIndex: position,
                state: .transferring, detail: "\(bytesDone)", at: now)
        }
    }

    /// Records the intent to rename the verified temp file into place (`finalizing`), if `token`
    /// is still current; the lease is renewed.
    ///
    /// - Throws: `leaseLost` (nothing changed) when the token is no longer current.
    package func beginFinalizing(file: Int64, token: Int64, bytesTotal: UInt64, leaseDuration: Duration) async throws(QueueError) {
        let milliseconds = Self.milliseconds(leaseDuration)
        let total = Int64(bytesTotal)
        try await store.transaction { db throws(QueueError) in
            let rows = try await db.run(
                """
                UPDATE files SET state = 'finalizing', bytes_done = \(total), bytes_total = \(total),
                       lease_expires_at = now() + \(milliseconds)::float8 * interval '1 millisecond'
                WHERE id = \(file) AND \(unescaped: Self.fence("files", "\(token)")) AND state = 'transferring'
                RETURNING id
                """, logger: store.logger)
            guard !rows.isEmpty else { throw try await leaseLost(db, file: file, token: token) }
        }
    }

    /// Commits a renamed file as `complete` and releases its lease, if `token` is still current,
    /// with its `fileComplete` event; completes the job and the group (auto-suspended, with their
    /// events) when nothing of them is left.
    ///
    /// - Throws: `leaseLost` (nothing changed) when the token is no longer current; `invalidState`
    ///   when the holder did not record `finalizing` first.
    package func complete(file: Int64, token: Int64) async throws(QueueError) {
        let now = self.now()
        try await store.transaction { db throws(QueueError) in
            let logger = store.logger
            let rows = try await db.run(
                """
                UPDATE files f SET state = 'complete', temp_path = NULL, completed_at = \(now),
                       lease_host = NULL, lease_expires_at = NULL, lease_token = NULL
                FROM jobs j
                WHERE f.id = \(file) AND \(unescaped: Self.fence("f", "\(token)")) AND f.state = 'finalizing' AND j.id = f.job_id
                RETURNING j.group_id, f.job_id, f.position::bigint
                """, logger: logger)
            guard let row = rows.first else {
                let lost = try await leaseLost(db, file: file, token: token)
                let state = try await db.run("SELECT state FROM files WHERE id = \(file) AND lease_token = \(token)", logger: logger)
                guard let current = try state.first?.value(String.self) else { throw lost }
                throw QueueError(.invalidState, "file \(file) is \(current), not finalizing: it cannot complete yet", value: "\(file)")
            }
            let (group, job, position) = try row.values((Int64, Int64, Int64).self)
            try await PostgresEventLog.record(
                db, logger: logger, .fileComplete, group: group, job: job, fileIndex: position,
                state: .transferring, at: now)
            // The group's row lock orders this against a concurrent complete of its other files:
            // whoever comes second sees the first one's file complete.
            try await db.run("SELECT id FROM groups WHERE id = \(group) FOR NO KEY UPDATE", logger: logger)
            let left = try await db.run(
                """
                SELECT EXISTS (SELECT 1 FROM files WHERE job_id = \(job) AND state IN ('queued', 'transferring', 'finalizing', 'error')),
                       EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                               WHERE j.group_id = \(group) AND j.state = 'active'
                                 AND f.state IN ('queued', 'transferring', 'finalizing', 'error'))
                """, logger: logger)
            let (jobLeft, groupLeft) = try left.first?.values((Bool, Bool).self) ?? (true, true)
            guard !jobLeft else { return }
            try await PostgresEventLog.record(db, logger: logger, .jobComplete, group: group, job: job, state: .transferring, at: now)
            guard !groupLeft else { return }
            let settled = try await db.run(
                """
                UPDATE groups SET state = 'complete', completed_at = \(now), modified_at = \(now), retry_at = NULL, progress_at = NULL,
                       last_error_code = NULL, last_error_message = NULL, last_error_system = NULL, last_error_http = NULL,
                       last_error_retries = NULL, last_error_file_id = NULL
                WHERE id = \(group) AND state IN ('queued', 'transferring', 'suspended', 'error')
                RETURNING id
                """, logger: logger)
            guard !settled.isEmpty else { return }
            try await PostgresEventLog.record(db, logger: logger, .groupComplete, group: group, state: .complete, at: now)
        }
    }

    /// The `leaseLost` error for a commit whose token is not the file's current one, naming who
    /// holds the file now.
    private func leaseLost(_ db: PostgresConnection, file: Int64, token: Int64) async throws(QueueError) -> QueueError {
        let rows = try await db.run("SELECT state, lease_host, lease_token FROM files WHERE id = \(file)", logger: store.logger)
        guard let row = rows.first else {
            return QueueError(.leaseLost, "lease on file \(file) lost: the file no longer exists", value: "\(file)")
        }
        let (state, host, current) = try row.values((String, String?, Int64?).self)
        if current == token {
            return QueueError(.leaseLost, "lease on file \(file) (token \(token)) no longer allows this step: the file is \(state)", value: "\(file)")
        }
        let holder = current.map { "held by \(host ?? "?") under token \($0)" } ?? "released (the file is \(state))"
        return QueueError(.leaseLost, "lease on file \(file) lost: token \(token) is stale, the file is \(holder)", value: "\(file)")
    }

    /// The fencing term of a statement about a file (`table` is its name or alias): its lease
    /// token is `token` (a number, or a column of the statement). Under the `no-fencing` mutant,
    /// any held lease passes.
    static func fence(_ table: String, _ token: String) -> String {
        Mutant.noFencing.isActive ? "\(table).lease_token IS NOT NULL" : "\(table).lease_token = \(token)"
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// Writes rows of the `events` outbox of a PostgreSQL queue, inside the transaction that made the
/// change (the counterpart of ``EventLog``).
enum PostgresEventLog {
    static func record(
        _ db: PostgresConnection, logger: Logger, _ kind: EventKind, group: Int64, job: Int64? = nil, fileIndex: Int64? = nil,
        state: GroupState, detail: String = "", at now: Int64
    ) async throws(QueueError) {
        let index = fileIndex.map(Int32.init)
        try await db.run(
            """
            INSERT INTO events (at, group_id, job_id, file_index, kind, state, detail)
            VALUES (\(now), \(group), \(job), \(index), \(kind.rawValue), \(state.rawValue), \(detail))
            """, logger: logger)
    }
}
