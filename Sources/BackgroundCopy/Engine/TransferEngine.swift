import Synchronization

/// The scheduler: claims files in order (foreground groups first and all at once, then one
/// background group by priority and age), runs a ``TransferWorker`` for each, and stops the ones
/// whose group was suspended or cancelled — by this process or another — within a poll interval.
struct TransferEngine: Sendable {
    let core: QueueCore

    private enum Signal: Sendable {
        case finished(Int64)
        case tick
    }

    private struct Running {
        let claim: Claim
        let task: Task<Void, Never>
    }

    func run() async throws(QueueError) {
        let lock = try EngineLock(database: core.store.path)
        try await StoragePatience.run("recover transfers", logger: core.logger) { () throws(QueueError) in
            try Reconciler(core: core).recoverTransfers()
        }
        let clients = HTTPClients(core.configuration)
        let transports = Self.transports(core.configuration, fileSystem: core.fileSystem, clients: clients)
        let observability = EngineObservability(core.configuration)
        let ledger = TransferLedger(core: core)
        let context = EngineContext(
            core: core, ledger: ledger, transports: transports,
            engineStop: EngineStop(), observability: observability)
        let census = observability?.metrics.map { GroupCensus.start($0, ledger: context.ledger) }
        core.logger.debug("transfer engine started", metadata: ["queue": "\(core.store.path)"])
        let notifyCommands = NotifyCommandRunner(core: core).start()
        do throws(QueueError) {
            try await loop(context, ledger: ledger)
        } catch {
            await census?.stop()
            await notifyCommands.stop()
            await clients.shutdown()
            withExtendedLifetime(lock) {}
            throw error
        }
        await census?.stop()
        await notifyCommands.stop()
        await clients.shutdown()
        withExtendedLifetime(lock) {}
        core.logger.debug("transfer engine stopped", metadata: ["queue": "\(core.store.path)"])
    }

    private func loop(_ context: EngineContext, ledger: TransferLedger) async throws(QueueError) {
        let (signals, continuation) = AsyncStream<Signal>.makeStream()
        let throttle = core.configuration.backgroundBytesPerSecond.map { Throttle(bytesPerSecond: $0) }
        // A tick at every poll interval finds other processes' changes; this process's commits (a
        // suspend or cancel from the host) tick at once. The engine's own steps (claim, checkpoint,
        // finalize, complete) are quiet: they change nothing it has to look at, and a look after
        // each of them cost more reads than the step itself. A failure or retry it records is not
        // quiet, so the group's other files in flight stop at once.
        let wakeups = core.store.wakeups(every: core.configuration.changePollInterval, includingQuiet: false)
        let waker = Task {
            for await _ in wakeups { continuation.yield(.tick) }
        }
        var running: [Int64: Running] = [:]
        var seen = try await StoragePatience.run("read the change stamp", logger: core.logger) { () throws(QueueError) in
            try core.store.changeStamp()
        }
        var failure: QueueError?
        // After a database failure that passes (busy, full), the next look waits for this instant.
        var backoff: (until: ContinuousClock.Instant, failures: Int)?
        // Free slots are filled by one claim of several files: one transaction, not one per file.
        // Slots are refilled once a quarter of them are free (or none runs), so files that finish
        // together (``FinishingLine``) are replaced together.
        func fill() async throws(QueueError) {
            let limit = core.configuration.maxConcurrentTransfers
            let free = limit - running.count
            guard free > 0, free * 4 >= limit || running.isEmpty else { return }
            let background = running.values.first { $0.claim.priority != .foreground }?.claim.groupRowID
            let claims = try await ledger.claimFiles(
                limit: free, filesPerGroup: max(1, core.configuration.maxFilesPerGroup), runningBackground: background)
            for claim in claims {
                let worker = TransferWorker(context: context, claim: claim, throttle: throttle)
                let task = Task {
                    await worker.run()
                    continuation.yield(.finished(claim.fileRowID))
                }
                running[claim.fileRowID] = Running(claim: claim, task: task)
            }
        }
        func look(_ signal: Signal) async throws(QueueError) {
            switch signal {
            case .finished(let id):
                running[id] = nil
                if backoff == nil { try await fill() }
            case .tick:
                if let pause = backoff, ContinuousClock.now < pause.until { return }
                let stamp = try core.store.changeStamp()
                let retryDue = try await context.ledger.nextRetry().map { $0 <= core.now() } ?? false
                guard stamp != seen || retryDue || backoff != nil else { return }
                for id in try await context.ledger.stale(Array(running.keys)) { running[id]?.task.cancel() }
                try await preempt(running, context)
                try await fill()
                // Only a look that went through settles the change and ends the backoff: a tick
                // that came during the pause, or a look that failed, leaves both for the next.
                seen = stamp
                backoff = nil
            }
        }
        do throws(QueueError) {
            backoff = (.now, 0)
            continuation.yield(.tick)  // the first look, at once
            for await signal in signals {
                do throws(QueueError) {
                    try await look(signal)
                } catch let error where error.isPassingStorageFailure {
                    // Busy past the timeout, or full: not a reason to stop. Look again later.
                    let failures = (backoff?.failures ?? 0) + 1
                    if failures == 1 || failures.isMultiple(of: 20) {
                        core.logger.info("database failure in the scheduler, will try again", metadata: ["error": "\(error)"])
                    }
                    backoff = (.now + StoragePatience.wait(after: failures - 1), failures)
                }
            }
        } catch {
            failure = error
        }
        waker.cancel()
        context.engineStop?.set()
        for entry in running.values { entry.task.cancel() }
        for entry in running.values { await entry.task.value }
        continuation.finish()
        if let failure { throw failure }
    }

    /// The transports an engine uses: `file`, `http` and `https` over `clients`, and the host's own.
    static func transports(
        _ configuration: QueueManager.Configuration, fileSystem: any FileSystem,
        clients: HTTPClients
    ) -> [String: any Transport] {
        var transports: [String: any Transport] = ["file": FileTransport(fileSystem: fileSystem)]
        let http = HTTPTransport(clients: clients, maxRedirects: configuration.maxRedirects, credentials: configuration.credentials)
        transports["http"] = http
        transports["https"] = http
        transports.merge(configuration.transports) { _, custom in custom }
        return transports
    }

    /// A background group yields to a waiting background group of higher priority (BITS' pre-emption).
    private func preempt(_ running: [Int64: Running], _ context: EngineContext) async throws(QueueError) {
        guard let background = running.values.first(where: { $0.claim.priority != .foreground }),
            let waiting = try await context.ledger.bestWaitingBackgroundPriority(),
            waiting < background.claim.priority
        else { return }
        background.task.cancel()
    }
}

extension QueueManager {
    /// Runs the transfer engine until the calling task is cancelled: transfers the files of
    /// resumed groups, in order, durably, and notifies observers.
    ///
    /// Run it wherever the host wants it to live (`Task { try await manager.run() }`, a service
    /// group, `bgcopy run`). On cancellation every transfer checkpoints and stops; the next run
    /// resumes where it stopped.
    /// - Throws: `invalidState` if another engine (in this process or another) already runs on the
    ///   database; `storage` if the database fails.
    public func run() async throws(QueueError) {
        try await TransferEngine(core: core).run()
    }
}
