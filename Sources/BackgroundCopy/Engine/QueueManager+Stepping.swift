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
}
