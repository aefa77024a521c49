extension QueueManager {
    /// Claims the next file in the engine's order and transfers it to its end (complete, waiting
    /// for a retry, failed, or stopped) on the calling task through `transports`: the engine's
    /// steps one file at a time, so the crash harness's workloads make the same calls in the same
    /// order every run. Returns `false` when no file could be claimed.
    package func transferNextFile(transports: [String: any Transport]) async throws(QueueError) -> Bool {
        let context = EngineContext(core: core, ledger: TransferLedger(core: core), transports: transports)
        guard let claim = try await context.ledger.claimNextFile() else { return false }
        await TransferWorker(context: context, claim: claim, throttle: nil).run()
        return true
    }

    /// Keeps files in flight the way the engine's scheduler does, without its throttle, its
    /// pre-emption and its wait for a quarter of the places to free — up to
    /// ``Configuration/maxFilesPerGroup`` of a group and ``Configuration/maxConcurrentTransfers`` in
    /// all, the free places filled by one claim of several files in the engine's order — until
    /// nothing can be claimed, at most `limit` files in all. Every worker runs on a child task of
    /// the calling one and shares one context (its open directories and their shared fsyncs, its
    /// finishing line); none waits out a database failure (each step is tried once), so the crash
    /// harness's runs end however the disk fails. Returns how many files were started.
    /// - Throws: the first claim that failed, once every file started has ended.
    package func transferFiles(limit: Int, transports: [String: any Transport]) async throws(QueueError) -> Int {
        let ledger = TransferLedger(core: core)
        let context = EngineContext(core: core, ledger: ledger, transports: transports)
        let (perGroup, inAll) = (max(1, core.configuration.maxFilesPerGroup), max(1, core.configuration.maxConcurrentTransfers))
        var failure: QueueError?
        let started = await withTaskGroup(of: Claim.self, returning: Int.self) { workers in
            var started = 0
            var running: [Int64: Claim] = [:]
            while true {
                let free = min(inAll - running.count, limit - started)
                if free > 0, failure == nil {
                    do throws(QueueError) {
                        let background = running.values.first { $0.priority != .foreground }?.groupRowID
                        for claim in try await ledger.claimFiles(limit: free, filesPerGroup: perGroup, runningBackground: background) {
                            workers.addTask {
                                await TransferWorker(context: context, claim: claim, throttle: nil).run()
                                return claim
                            }
                            running[claim.fileRowID] = claim
                            started += 1
                        }
                    } catch {
                        failure = error
                    }
                }
                guard !running.isEmpty, let ended = await workers.next() else { return started }
                running[ended.fileRowID] = nil
            }
        }
        if let failure { throw failure }
        return started
    }
}
