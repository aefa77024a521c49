import ArgumentParser
import BackgroundCopy

/// `bgcopy run`: the transfer engine in the foreground, with live progress, until Ctrl-C (or,
/// with `--once`, until no group is queued or transferring).
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the transfer engine in the foreground until Ctrl-C (or, with --once, until idle).",
        discussion: """
            On a terminal it draws a bar per active group and per transferring file (redrawn 5 times a \
            second); otherwise it prints a log line per event. Ctrl-C checkpoints every transfer and exits \
            with 130; the next run resumes where this one stopped. Only one engine may run per SQLite queue; \
            with --db postgres://user@host/database any number of hosts run one each on the same queue. \
            Progress is committed every second or 4 MiB while this engine runs. --once exits 1 if a group \
            went into error during the run.
            """)

    @OptionGroup var queue: QueueOptions

    @Flag(help: "Stop when no group is queued or transferring (groups waiting for a retry count as queued).")
    var once = false

    @Option(help: ArgumentHelp("Limit background groups to this many bytes per second (512K, 10M); foreground groups are never limited.", valueName: "rate"))
    var limit: ByteCountArgument?

    @Option(name: .customLong("max-concurrent"), help: "The most files transferred at once (default 16).")
    var maxConcurrent: Int?

    @Option(name: .customLong("files-per-group"), help: "The most files of one group transferred at once; they still start in order (default 8).")
    var filesPerGroup: Int?

    @Flag(help: "Print log lines even on a terminal.")
    var plain = false

    @Option(help: ArgumentHelp("With a postgres:// queue: this host's name in the leases it holds (default: hostname-pid).", valueName: "name"))
    var host: String?

    @Option(
        name: .customLong("lease"),
        help: ArgumentHelp(
            "With a postgres:// queue: seconds a lease lasts unless renewed; another host takes the file over after that (default 15).", valueName: "seconds"))
    var leaseSeconds: Int?

    func validate() throws {
        if let maxConcurrent, maxConcurrent < 1 { throw ValidationError("--max-concurrent must be at least 1, not \(maxConcurrent)") }
        if let filesPerGroup, filesPerGroup < 1 { throw ValidationError("--files-per-group must be at least 1, not \(filesPerGroup)") }
        if let leaseSeconds, leaseSeconds < 1 { throw ValidationError("--lease must be at least 1 second, not \(leaseSeconds)") }
    }

    func run() async throws {
        var configuration = QueueManager.Configuration()
        configuration.checkpointInterval = .seconds(1)
        configuration.backgroundBytesPerSecond = limit?.bytes
        if let maxConcurrent { configuration.maxConcurrentTransfers = maxConcurrent }
        if let filesPerGroup { configuration.maxFilesPerGroup = filesPerGroup }
        if let url = postgresURL {
            return try await runOnPostgres(url: url, configuration: configuration)
        }
        let manager = try queue.open(configuration)
        var session = EngineSession(manager: manager, until: once ? .idle : .interrupted)
        if plain { session.bars = false }
        let outcome = try await session.run()
        if let error = outcome.engineError { throw error }
        if let signal = outcome.signal { throw ExitCode(signal.rawValue) }
        if once && outcome.groupErrors > 0 { throw ExitCode(ExitStatus.failure.rawValue) }
    }
}
