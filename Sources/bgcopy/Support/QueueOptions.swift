import ArgumentParser
import BackgroundCopy
import Foundation
import Logging

/// The options every queue command shares: which database, and how much the library logs.
struct QueueOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The queue database (default: $BGCOPY_DB, else $XDG_DATA_HOME/bgcopy/queue.sqlite).", valueName: "path"))
    var db: String?

    @Flag(name: [.customShort("v"), .long], help: "Log more on stderr: -v for info, -vv for debug (default: warnings only).")
    var verbose: Int

    /// The database location these options choose.
    var location: QueueLocation { QueueLocation(option: db) }

    /// The library's logger: warnings and worse on stderr, more with `--verbose`.
    var logger: Logger {
        var logger = Logger(label: "bgcopy") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel =
            switch verbose {
            case 0: .warning
            case 1: .info
            default: .debug
            }
        return logger
    }

    /// Refuses `--db ''`: an empty path names no queue (it must not fall back to the default one).
    func validate() throws {
        if db?.isEmpty == true {
            throw ValidationError("--db needs a path; an empty one names no queue")
        }
    }

    /// Opens (creating it if needed) the queue.
    func open(_ configuration: QueueManager.Configuration = .init()) throws -> QueueManager {
        let location = location
        try location.prepareDirectory()
        return try QueueManager(path: location.path, configuration: configuration, logger: logger)
    }

    /// Opens the queue for a command that only reads it (`list`, `info`, `files`, `events`,
    /// `monitor`, `wait`, `check`): a database that does not exist is an error, never a new queue.
    func openExisting() throws -> QueueManager {
        let location = location
        guard FileManager.default.fileExists(atPath: location.path) else {
            throw CLIError(
                .failure, "no queue at \(location.path)",
                hint: "a command that changes the queue (`bgcopy create NAME`) creates it; choose another with --db PATH or $BGCOPY_DB")
        }
        return try QueueManager(path: location.path, logger: logger)
    }
}
