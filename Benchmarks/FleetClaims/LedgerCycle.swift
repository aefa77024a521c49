import BackgroundCopy

/// One claim→complete cycle through a backend's engine ledger, as the engine's worker takes it
/// for a file whose bytes are already in place: claim the next file (under a lease on
/// PostgreSQL), record `finalizing` (the intent to rename, which `complete` requires), commit it
/// `complete` (on PostgreSQL presenting the lease's fencing token). No transfer, no file touched.
enum LedgerCycle {
    /// Runs one cycle; `false` when nothing was left to claim.
    static func run(_ ledger: some EngineLedger) async throws -> Bool {
        guard let claim = try await ledger.claimNextFile(filesPerGroup: 1, foregroundOnly: false, alsoGroup: nil) else { return false }
        guard try await ledger.beginFinalizing(claim.fileRowID, bytesTotal: 0) else { throw LostClaim(file: claim.fileRowID) }
        try await ledger.complete(claim.fileRowID)
        return true
    }
}

/// A file claimed a moment ago was no longer the engine's to finalize (nothing else runs on the
/// queue, so this is a bug).
struct LostClaim: Error, CustomStringConvertible {
    let file: Int64
    var description: String { "file \(file) was claimed but could not be finalized" }
}
