import ArgumentParser
import BackgroundCopy
import Foundation
import Logging

/// The options every queue command shares: which database, and how much the library logs.
struct QueueOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The queue database (default: $BGCOPY_DB, else $XDG_DATA_HOME/bgcopy/queue.sqlite).", valueName: "path"))
    var db: String?

    @Flag(name: [.customShort("v"), .long], help: "Log more on stderr: -v for info, -vv for debug (default: warnings only).")
    var verbose: Int

    /// The database location these options choose.
    var location: QueueLocation { QueueLocation(option: db) }

    /// The library's logger: warnings and worse on stderr, more with `--verbose`.
    var logger: Logger {
        var logger = Logger(label: "bgcopy") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = switch verbose {
        case 0: .warning
        case 1: .info
        default: .debug
        }
        return logger
    }

    /// Opens (creating it if needed) the queue.
    func open(_ configuration: QueueManager.Configuration = .init()) throws -> QueueManager {
        let location = location
        try location.prepareDirectory()
        return try QueueManager(path: location.path, configuration: configuration, logger: logger)
    }
}
