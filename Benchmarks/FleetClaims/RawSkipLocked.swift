import Foundation
import PostgresNIO

/// The ceiling for a PostgreSQL claim→complete cycle: the smallest SQL that does the same thing,
/// issued straight through postgres-nio on a connection of the engine's own — two statements,
/// each its own (autocommit) transaction and so its own durable commit:
///
/// 1. the claim: the first queued file in the scheduler's order (`FOR UPDATE SKIP LOCKED`, so
///    concurrent claimers pass each other by) becomes `transferring` under a new lease and token;
/// 2. the complete: the file becomes `complete` and its lease is released, if the token is still
///    the file's.
///
/// What the library does besides (and this does not): moves the group to `transferring` at the
/// claim, records `finalizing` as a commit of its own, writes the `fileComplete` event, and
/// settles the job and group when their last file completes.
enum RawSkipLocked {
    /// Runs one cycle as `host`; `false` when nothing was left to claim.
    static func cycle(_ connection: PostgresConnection, host: String) async throws -> Bool {
        let claimed = try await connection.query(
            """
            UPDATE files SET state = 'transferring', lease_host = \(host),
                   lease_expires_at = now() + interval '15 seconds', lease_token = nextval('lease_tokens')
            WHERE id = (
                SELECT f.id FROM groups g
                JOIN jobs j ON j.group_id = g.id AND j.state = 'active'
                JOIN files f ON f.job_id = j.id
                WHERE g.state IN ('queued', 'transferring') AND f.state = 'queued'
                ORDER BY g.priority, g.id, j.id, f.position
                LIMIT 1
                FOR UPDATE OF f SKIP LOCKED)
            RETURNING id, lease_token
            """, logger: quiet)
        var lease: (file: Int64, token: Int64)?
        for try await (file, token) in claimed.decode((Int64, Int64).self) { lease = (file, token) }
        guard let lease else { return false }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let completed = try await connection.query(
            """
            UPDATE files SET state = 'complete', temp_path = NULL, completed_at = \(now),
                   lease_host = NULL, lease_expires_at = NULL, lease_token = NULL
            WHERE id = \(lease.file) AND lease_token = \(lease.token) AND state = 'transferring'
            RETURNING id
            """, logger: quiet)
        var done = false
        for try await _ in completed.decode(Int64.self) { done = true }
        guard done else { throw LostClaim(file: lease.file) }
        return true
    }
}
