/// The store steps a running engine takes, whichever backend keeps the queue: the boundary
/// between `Engine/` (no SQL) and `Store/`. ``TransferLedger`` is the SQLite side (one host, one
/// engine per database); ``PostgresEngineLedger`` the PostgreSQL side (many hosts, each file held
/// under a lease whose fencing token every commit presents).
///
/// Every step is one transaction, conditional on the file still being this engine's: a step that
/// finds it is not any more — suspended, cancelled, or (PostgreSQL) taken over by another host —
/// changes nothing and answers `false` (or `nil`), and the transfer stops.
package protocol EngineLedger: Sendable {
    /// Claims the next file in the engine's order, or `nil` if none may start now.
    func claimNextFile(filesPerGroup: Int, foregroundOnly: Bool, alsoGroup: Int64?) async throws(QueueError) -> Claim?
    /// Commits durable progress; `false` if the file is no longer claimed.
    func checkpoint(
        _ fileRowID: Int64, bytesDone: UInt64, bytesTotal: UInt64?, validator: String?,
        progressAbove: UInt64
    ) async throws(QueueError) -> Bool
    /// Records the intent to rename the verified temp file into place; `false` if no longer claimed.
    func beginFinalizing(_ fileRowID: Int64, bytesTotal: UInt64) async throws(QueueError) -> Bool
    /// Commits a renamed file as complete, with its events.
    /// - Throws: `invalidState` when the file is not finalizing (it was cancelled meanwhile).
    func complete(_ fileRowID: Int64) async throws(QueueError)
    /// ``beginFinalizing(_:bytesTotal:)`` for several files, in one transaction where the backend
    /// can: whether each file was still claimed, in order.
    func beginFinalizing(_ files: [(fileRowID: Int64, bytesTotal: UInt64)]) async throws(QueueError) -> [Bool]
    /// ``complete(_:)`` for several files, in one transaction where the backend can: for each file
    /// in order, `nil` or the `invalidState` error that refused it alone.
    /// - Throws: any other error, which fails every file of the call.
    func complete(_ fileRowIDs: [Int64]) async throws(QueueError) -> [QueueError?]
    /// Fails the file for good (its group goes to `error`); `false` if no longer claimed.
    func fail(_ fileRowID: Int64, error: QueueError, retries: Int) async throws(QueueError) -> Bool
    /// Queues the file again, its retry count one higher, for a retry `wait(retries)` from now,
    /// worked out from the count as committed (progress resets it); the wait, or `nil` if no longer
    /// claimed.
    func retryLater(
        _ fileRowID: Int64, error: QueueError,
        wait: @escaping @Sendable (_ retries: Int) -> Duration
    ) async throws(QueueError) -> Duration?
    /// Hands a stopped file back to the queue with `bytesDone` committed; the file's state after.
    @discardableResult
    func release(_ fileRowID: Int64, bytesDone: UInt64?) async throws(QueueError) -> FileState?
    /// Of the given in-flight files, those the engine must stop.
    func stale(_ fileRowIDs: [Int64]) async throws(QueueError) -> [Int64]
    /// The earliest time (Unix ms) a waiting group may be retried, if any waits.
    func nextRetry() async throws(QueueError) -> Int64?
    /// When the group last made progress, its no-progress timeout and retry delay (ms).
    func lastProgress(ofGroup groupRowID: Int64) async throws(QueueError) -> (at: Int64?, timeout: Int64, retryDelay: Int64)
    /// Restarts the file from zero: committed progress goes back to 0.
    func discardProgress(_ fileRowID: Int64) async throws(QueueError)
    /// The best priority among background groups that could start a file now, if any.
    func bestWaitingBackgroundPriority() async throws(QueueError) -> Priority?
    /// Where the file sits in its group, for its span; `nil` if its row is gone.
    func placement(of fileRowID: Int64) async throws(QueueError) -> FilePlacement?
    /// How many groups are in each live state.
    func groupCensus() async throws(QueueError) -> [GroupState: Int]
}

extension EngineLedger {
    /// One file after the other, each in its own transaction.
    package func beginFinalizing(_ files: [(fileRowID: Int64, bytesTotal: UInt64)]) async throws(QueueError) -> [Bool] {
        var begun: [Bool] = []
        for file in files { begun.append(try await beginFinalizing(file.fileRowID, bytesTotal: file.bytesTotal)) }
        return begun
    }

    /// One file after the other, each in its own transaction.
    package func complete(_ fileRowIDs: [Int64]) async throws(QueueError) -> [QueueError?] {
        var refusals: [QueueError?] = []
        for file in fileRowIDs {
            do throws(QueueError) {
                try await complete(file)
                refusals.append(nil)
            } catch let error where error.code == .invalidState {
                refusals.append(error)
            }
        }
        return refusals
    }

    /// The next file in the engine's order, one per group at a time.
    func claimNextFile() async throws(QueueError) -> Claim? {
        try await claimNextFile(filesPerGroup: 1, foregroundOnly: false, alsoGroup: nil)
    }
}

extension TransferLedger: EngineLedger {}
