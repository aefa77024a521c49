/// The writer thread's loop: one transaction per batch of waiting calls, one savepoint per call.
struct WriterLoop {
    let connection: Connection
    let queue: WriteQueue
    /// Called after each commit that changed a row.
    let committed: @Sendable () -> Void

    func run() {
        while let first = queue.next(upTo: Writer.maxBatch) {
            runBatch(first)
        }
    }

    /// What became of one call's savepoint.
    private enum Step {
        /// Its changes (none, if its body threw) are part of the open transaction.
        case kept
        /// The transaction itself is gone (SQLite rolled it back, or a savepoint failed): `error` says why.
        case lost(QueueError)
    }

    private func runBatch(_ first: [any WriteWork]) {
        let db = connection
        do throws(QueueError) {
            try db.statement("BEGIN IMMEDIATE").run()
        } catch {
            db.releaseStatements()
            for work in first { work.finish(error) }
            return
        }
        let changesBefore = db.totalChanges
        let clock = ContinuousClock()
        let start = clock.now
        var performed: [any WriteWork] = []
        var waiting = first[...]
        while true {
            while let work = waiting.popFirst() {
                if case .lost(let error) = step(work, db) {
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
        do throws(QueueError) {
            try db.statement("COMMIT").run()
            db.releaseStatements()
        } catch {
            abandon(acknowledgedEarly ? [] : performed, because: error, db)
            return
        }
        if db.totalChanges != changesBefore { committed() }
        if !acknowledgedEarly {
            for work in performed { work.finish(nil) }
        }
    }

    /// Runs one call in its own savepoint; a body that threw leaves nothing behind.
    private func step(_ work: any WriteWork, _ db: Connection) -> Step {
        do throws(QueueError) {
            try db.statement("SAVEPOINT call").run()
            let succeeded = work.perform(db)
            db.releaseStatements()
            guard db.inTransaction else {
                return .lost(QueueError(.storage, "SQLite rolled the transaction back after a failed call"))
            }
            if !succeeded {
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
        db.releaseStatements()
        if db.inTransaction { try? db.statement("ROLLBACK").run() }
        db.releaseStatements()
        for work in performed { work.finish(error) }
    }
}
