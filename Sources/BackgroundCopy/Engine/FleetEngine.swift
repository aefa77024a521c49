import Logging

/// The scheduler of an engine on a PostgreSQL queue, one of many hosts draining it together
/// (DESIGN.md, Scale-out). It runs the same ``TransferWorker`` as the SQLite engine; what differs
/// is how files are claimed and how the engine learns that one must stop:
///
/// - Claims come in batches, as many as free slots, in the queue's scheduler order (groups by
///   priority then age, jobs and files in order), each file under a lease of this host. Expired
///   leases of other hosts are taken over by the same claim. There is no per-group limit and no
///   pre-emption: with many hosts the queue order, not one host's slots, decides.
/// - Every poll interval (``QueueManager/Configuration/changePollInterval``, 200 ms by default)
///   it asks which of its files are stale — suspended, cancelled, or no longer held under its
///   token — and stops them: a suspend or cancel from any host stops the transfer within about
///   one interval. Polling, not LISTEN/NOTIFY.
/// - A renewer extends every held lease three times per lease duration, so a slow transfer that
///   checkpoints rarely keeps its file; a lease it finds lost stops that transfer at once.
/// - A file taken over while `finalizing` is finished as recovery would: the verified temp file is
///   renamed into place (or found already there) and committed `complete`.
struct FleetEngine: Sendable {
    let ledger: PostgresEngineLedger
    let settings: QueueManager.Configuration
    let fileSystem: any FileSystem
    let logger: Logger

    private enum Signal: Sendable {
        case finished(Int64)
        case lost([Int64])
        case tick
    }

    func run() async throws(QueueError) {
        let clients = HTTPClients(settings)
        let transports = TransferEngine.transports(settings, fileSystem: fileSystem, clients: clients)
        let context = EngineContext(
            settings: settings, fileSystem: fileSystem, logger: logger, ledger: ledger, transports: transports,
            engineStop: EngineStop(), observability: EngineObservability(settings))
        logger.info("fleet engine started", metadata: ["host": "\(ledger.host)"])
        do throws(QueueError) {
            try await loop(context)
        } catch {
            await clients.shutdown()
            throw error
        }
        await clients.shutdown()
        logger.info("fleet engine stopped", metadata: ["host": "\(ledger.host)"])
    }

    private func loop(_ context: EngineContext) async throws(QueueError) {
        let (signals, continuation) = AsyncStream<Signal>.makeStream()
        let throttle = settings.backgroundBytesPerSecond.map { Throttle(bytesPerSecond: $0) }
        let ticker = Task { [interval = settings.changePollInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)  // cancelled only when the engine stops; the loop checks that
                continuation.yield(.tick)
            }
        }
        let renewer = Task { [ledger, logger] in
            while !Task.isCancelled {
                try? await Task.sleep(for: ledger.leaseDuration / 3)  // cancelled only when the engine stops
                do throws(QueueError) {
                    let lost = try await ledger.renewHeld()
                    if !lost.isEmpty { continuation.yield(.lost(lost)) }
                } catch {
                    logger.info("lease renewal failed, will try again", metadata: ["error": "\(error)"])
                }
            }
        }
        var running: [Int64: Task<Void, Never>] = [:]
        func fill() async throws(QueueError) {
            let free = settings.maxConcurrentTransfers - running.count
            guard free > 0 else { return }
            for leased in try await ledger.claim(limit: free) {
                let claim = leased.claim
                if let previous = leased.takenOverFrom {
                    logger.info("took over an expired lease", metadata: ["file": "\(claim.local)", "from": "\(previous)"])
                }
                let task = Task {
                    if leased.finalizing {
                        await finishTakenOver(claim, context)
                    } else {
                        await TransferWorker(context: context, claim: claim, throttle: throttle).run()
                    }
                    continuation.yield(.finished(claim.fileRowID))
                }
                running[claim.fileRowID] = task
            }
        }
        func look(_ signal: Signal) async throws(QueueError) {
            switch signal {
            case .finished(let id):
                running[id] = nil
                ledger.forget(id)
                try await fill()
            case .lost(let ids):
                for id in ids { running[id]?.cancel() }
            case .tick:
                for id in try await ledger.stale(Array(running.keys)) { running[id]?.cancel() }
                try await fill()
            }
        }
        var failures = 0
        var failure: QueueError?
        continuation.yield(.tick)
        for await signal in signals {
            do throws(QueueError) {
                try await look(signal)
                failures = 0
            } catch let error where error.code == .storage {
                // The server failed or restarted: not a reason to stop. The next tick looks again.
                failures += 1
                if failures == 1 || failures.isMultiple(of: 20) {
                    logger.info("database failure in the fleet scheduler, will try again", metadata: ["error": "\(error)"])
                }
            } catch {
                failure = error
                break
            }
        }
        ticker.cancel()
        renewer.cancel()
        context.engineStop?.set()
        for task in running.values { task.cancel() }
        for task in running.values { await task.value }
        continuation.finish()
        if let failure { throw failure }
    }

    /// Finishes a file another host left `finalizing`: its temp file was verified and its size
    /// committed, so a temp file of that size is renamed into place; one already renamed is found
    /// at the final path. Anything else starts the file over (released with no bytes).
    private func finishTakenOver(_ claim: Claim, _ context: EngineContext) async {
        let files = TempFiles(fileSystem: fileSystem, logger: logger)
        do throws(QueueError) {
            let size = claim.bytesTotal ?? claim.bytesDone
            if try fileSystem.metadata(of: claim.tempPath)?.size == size {
                try files.publish(claim.tempPath)
                try fileSystem.rename(claim.tempPath, to: claim.local)
                try fileSystem.fsyncDirectory(claim.local.parentDirectory)
            } else if try fileSystem.metadata(of: claim.local)?.size != size {
                try await context.patiently("release") { () async throws(QueueError) in _ = try await ledger.release(claim.fileRowID, bytesDone: 0) }
                return
            }
            try await context.patiently("complete") { () async throws(QueueError) in try await ledger.complete(claim.fileRowID) }
        } catch {
            logger.info(
                "could not finish a file taken over while finalizing; its lease will lapse",
                metadata: ["file": "\(claim.local)", "error": "\(error)"])
        }
    }
}
