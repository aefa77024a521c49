/// The writer's batches: one transaction per batch of waiting calls, one savepoint per call.
///
/// `@unchecked Sendable`: the connection is used only by whoever holds the queue's `running` flag
/// — the writer thread or one leading caller — so never by two threads at once.
final class WriterLoop: @unchecked Sendable {
    private var connection: Connection?
    private let queue: WriteQueue
    /// Called after each commit that changed a row; told whether every write in it was quiet.
    private let committed: @Sendable (_ quiet: Bool) -> Void
    /// Commits, their latency and size; `nil` when no metrics backend is bootstrapped.
    private let metrics: StoreMetrics?

    init(connection: Connection, queue: WriteQueue, metrics: StoreMetrics?, committed: @escaping @Sendable (_ quiet: Bool) -> Void) {
        self.connection = connection
        self.queue = queue
        self.metrics = metrics
        self.committed = committed
    }

    /// The writer thread's loop; closes the connection once the queue is stopped and drained.
    func run() {
        while let first = queue.next(upTo: Writer.maxBatch) {
            runBatch(first)
            queue.batchEnded()
        }
        connection = nil
    }

    /// What became of one call's savepoint.
    private enum Step {
        /// Its changes (none, if its body threw) are part of the open transaction.
        case kept
        /// The transaction itself is gone (SQLite rolled it back, or a savepoint failed): `error` says why.
        case lost(QueueError)
    }

    /// Runs `first` and the calls that join it in one transaction; the caller holds `running`.
    func runBatch(_ first: [any WriteWork]) {
        guard let db = connection else {
            for work in first { work.finish(QueueError(.invalidState, "the queue is closed")) }
            return
        }
        do throws(QueueError) {
            try db.statement("BEGIN IMMEDIATE").run()
        } catch {
            db.releaseStatements()
            for work in first { work.finish(error) }
            return
        }
        let changesBefore = db.totalChanges
        let keepsFailedWrites = Mutant.savepointLeak.isActive
        let clock = ContinuousClock()
        let start = clock.now
        var performed: [any WriteWork] = []
        var waiting = first[...]
        while true {
            while let work = waiting.popFirst() {
                if performed.isEmpty {
                    // The first call needs no savepoint: if it throws, nothing else has run yet, so the
                    // whole transaction rolls back and the calls still waiting start a new one.
                    guard work.perform(db) || keepsFailedWrites else {
                        rollBack(db)
                        work.finish(nil)
                        queue.requeue(Array(waiting))
                        return
                    }
                    db.releaseStatements()
                    performed.append(work)
                    continue
                }
                if case .lost(let error) = step(work, db, keepingFailedWrites: keepsFailedWrites) {
                    abandon(performed + [work], because: error, db)
                    queue.requeue(Array(waiting))
                    return
                }
                performed.append(work)
            }
            guard performed.count < Writer.maxBatch, clock.now - start < Writer.batchWindow else { break }
            let more = queue.available(upTo: Writer.maxBatch - performed.count)
            if more.isEmpty { break }
            waiting = more[...]
        }
        let acknowledgedEarly = Mutant.ackBeforeCommit.isActive
        if acknowledgedEarly {
            for work in performed { work.finish(nil) }
        }
        let commitStart: ContinuousClock.Instant? = metrics == nil ? nil : clock.now
        do throws(QueueError) {
            try db.statement("COMMIT").run()
            db.releaseStatements()
        } catch {
            metrics?.recordFailedCommit()
            abandon(acknowledgedEarly ? [] : performed, because: error, db)
            return
        }
        // Recorded before the callers return, so a caller sees its own commit counted (a few
        // handler calls beside the COMMIT's fsync).
        if let metrics, let commitStart { metrics.recordCommit(calls: performed.count, duration: clock.now - commitStart) }
        if db.totalChanges != changesBefore { committed(performed.allSatisfy(\.quiet)) }
        if !acknowledgedEarly {
            for work in performed { work.finish(nil) }
        }
    }

    /// Runs one call in its own savepoint; a body that threw leaves nothing behind (but under the
    /// seeded bug `savepoint-leak`, `keepingFailedWrites`).
    private func step(_ work: any WriteWork, _ db: Connection, keepingFailedWrites: Bool) -> Step {
        do throws(QueueError) {
            try db.statement("SAVEPOINT call").run()
            let succeeded = work.perform(db)
            db.releaseStatements()
            guard db.inTransaction else {
                return .lost(QueueError(.storage, "SQLite rolled the transaction back after a failed call"))
            }
            if !succeeded && !keepingFailedWrites {
                try db.statement("ROLLBACK TO call").run()
            }
            try db.statement("RELEASE call").run()
            return .kept
        } catch {
            db.releaseStatements()
            return .lost(error)
        }
    }

    /// Rolls the batch back and fails every call in `performed` with `error` (a call whose body threw
    /// keeps its own error).
    private func abandon(_ performed: [any WriteWork], because error: QueueError, _ db: Connection) {
        rollBack(db)
        for work in performed { work.finish(error) }
    }

    private func rollBack(_ db: Connection) {
        db.releaseStatements()
        if db.inTransaction {
            try? db.statement("ROLLBACK").run()  // every caller already gets the batch's error; SQLite undoes an unfinished transaction anyway
        }
        db.releaseStatements()
    }
}
