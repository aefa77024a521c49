import Logging

/// What every part of a running engine shares.
struct EngineContext: Sendable {
    let settings: QueueManager.Configuration
    let fileSystem: any FileSystem
    let logger: Logger
    /// The store steps, on whichever backend keeps the queue.
    let ledger: any EngineLedger
    let transports: [String: any Transport]
    /// Set by the running engine: its store steps wait out database failures that pass
    /// (``StoragePatience``) until it stops, even in a worker the scheduler stopped (the file's last
    /// step must still land). `nil`: a worker driven directly tries each step once.
    var engineStop: EngineStop?
    /// The running engine's metrics and spans; `nil` when the host set up neither, or for a
    /// worker driven directly.
    var observability: EngineObservability?
    /// How far files whose source restarted from zero had come (what refetched bytes must pass).
    let restartMarks = RestartMarks()
    /// The destination directories of the files in flight, opened once and fsynced together.
    let directories: OpenDirectories
    /// Where verified files are finalized, renamed and completed together.
    let finishing = FinishingLine()

    init(
        settings: QueueManager.Configuration, fileSystem: any FileSystem, logger: Logger, ledger: any EngineLedger,
        transports: [String: any Transport], engineStop: EngineStop? = nil, observability: EngineObservability? = nil
    ) {
        self.settings = settings
        self.fileSystem = fileSystem
        self.directories = OpenDirectories(fileSystem: fileSystem)
        self.logger = logger
        self.ledger = ledger
        self.transports = transports
        self.engineStop = engineStop
        self.observability = observability
    }

    /// The context of an engine on the SQLite queue of `core`.
    init(
        core: QueueCore, ledger: any EngineLedger, transports: [String: any Transport], engineStop: EngineStop? = nil,
        observability: EngineObservability? = nil
    ) {
        self.init(
            settings: core.configuration, fileSystem: core.fileSystem, logger: core.logger, ledger: ledger,
            transports: transports, engineStop: engineStop, observability: observability)
    }

    /// Wall-clock time in Unix milliseconds (``QueueManager/Configuration/wallClock``), as ``QueueCore/now()``.
    func now() -> Int64 {
        Int64((settings.wallClock().timeIntervalSince1970 * 1000).rounded())
    }

    /// The transport for a remote name: absolute paths go to `file`.
    func transport(for remote: String) throws(QueueError) -> any Transport {
        let scheme = remote.hasPrefix("/") ? "file" : String(remote.prefix { $0 != ":" }).lowercased()
        guard let transport = transports[scheme] else {
            throw QueueError(.transfer, "no transport is registered for scheme \(scheme)", value: remote)
        }
        return transport
    }

    /// How long to wait before retry number `retries` (1-based): the group's delay doubled per
    /// retry, capped, ±10 % jitter; never less than what the server asked for, nor than the
    /// configuration's floor.
    func retryDelay(groupDelayMilliseconds: Int64, retries: Int, serverAsked: Duration?) -> Duration {
        let minimum = max(settings.minimumRetryDelay, settings.retryDelayFloor)
        let base = Double(max(groupDelayMilliseconds, minimum.milliseconds))
        let cap = Double(max(settings.maximumRetryDelay.milliseconds, groupDelayMilliseconds))
        let doubled = min(cap, base * pow2(max(0, retries - 1)))
        let jittered = doubled * Double.random(in: 0.9...1.1)
        let delay = Duration.milliseconds(Int64(jittered))
        guard let serverAsked else { return delay }
        return max(delay, serverAsked)
    }

    private func pow2(_ exponent: Int) -> Double {
        exponent >= 62 ? Double.greatestFiniteMagnitude : Double(1 << exponent)
    }
}
