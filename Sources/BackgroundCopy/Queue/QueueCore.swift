import Foundation
import Logging

/// What a ``QueueManager`` and every ``Group`` and ``Job`` handle share: the store, validation,
/// the file system and the logger.
final class QueueCore: Sendable {
    let store: Store
    let configuration: QueueManager.Configuration
    let validator: Validator
    let fileSystem: any FileSystem
    let logger: Logger

    init(store: Store, configuration: QueueManager.Configuration, fileSystem: any FileSystem, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.validator = Validator(configuration: configuration, fileSystem: fileSystem)
        self.fileSystem = fileSystem
        self.logger = logger
    }

    /// Wall-clock time in Unix milliseconds (``QueueManager/Configuration/wallClock``), for the
    /// timestamps in the rows.
    func now() -> Int64 {
        Int64((configuration.wallClock().timeIntervalSince1970 * 1000).rounded())
    }
}
