import Foundation

/// A host's hold on one file of a PostgreSQL queue: who holds it, until when, and the fencing
/// token that every commit about the file must present.
///
/// Rules (DESIGN.md, Scale-out):
/// - Every claim or takeover draws a new token from the `lease_tokens` sequence, so a file's later
///   holder always has a higher token than every earlier one.
/// - A checkpoint, renewal, finalize or complete commits only while its token is still the file's
///   current one; otherwise it changes nothing and throws `leaseLost`. The token decides, not the
///   clock: a holder whose lease has expired but that nobody took over yet may still commit (and
///   renews the lease by doing so).
/// - Expiry is the database server's clock (`now()` of the transaction), so the hosts' clocks need
///   not agree. A lease not renewed within its duration may be taken over by any host's claim.
package struct PostgresLease: Sendable, Equatable {
    package let fileRowID: Int64
    package let token: Int64
    package let host: String
    /// When the lease lapses unless renewed (server time).
    package let expiresAt: Date
}

/// A file claimed from a PostgreSQL queue: what the engine needs to transfer it (the same
/// ``Claim`` the SQLite backend hands out) and the lease under which it may commit.
package struct LeasedClaim: Sendable, Equatable {
    package let claim: Claim
    package let lease: PostgresLease
    /// The host whose expired lease this claim took over (nil for a queued file). The new holder
    /// resumes from the committed `bytesDone` if it can see the old temp file, else from zero.
    package let takenOverFrom: String?
    /// Whether the file was already `finalizing` when taken over: its verified temp file may have
    /// been renamed into place already, so the new holder finishes that (as recovery does) instead
    /// of transferring again.
    package let finalizing: Bool
}
