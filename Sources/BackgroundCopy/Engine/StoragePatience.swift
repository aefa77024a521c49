import CSQLite
import Logging

extension QueueError {
    /// A database failure that passes by itself, so the engine waits and tries again rather than
    /// failing a file or stopping: the write lock held by another process past the busy timeout
    /// (`SQLITE_BUSY`, `SQLITE_LOCKED`), a full disk (`SQLITE_FULL`), an I/O error, memory pressure.
    var isPassingStorageFailure: Bool {
        guard code == .storage, let result = sqliteResultCode else { return false }
        return [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_IOERR, SQLITE_PROTOCOL, SQLITE_NOMEM].contains(result & 0xFF)
    }
}

/// How the engine waits out a database failure that passes (``QueueError/isPassingStorageFailure``):
/// the step is tried again after 50 ms, doubling up to 5 s, for as long as it takes — unless the
/// engine is stopping, when one more try is all it gets and the failure is thrown (the file is
/// then left to the recovery of the next open or engine start).
///
/// Only a running engine waits (``EngineContext/waitsOutStorageFailures``): a worker driven
/// directly (the crash harness, whose faults may never clear) tries each step once.
enum StoragePatience {
    /// The longest wait between two tries.
    static let maximumWait = Duration.seconds(5)

    /// The wait before try number `attempt + 1`.
    static func wait(after attempt: Int) -> Duration {
        min(maximumWait, .milliseconds(50 << min(attempt, 7)))
    }

    /// Runs `step` until it succeeds or fails with anything but a passing storage failure; with
    /// `patient` false, once.
    static func run<T>(_ what: String, logger: Logger, patient: Bool = true, _ step: () throws(QueueError) -> T) async throws(QueueError) -> T {
        guard patient else { return try step() }
        var attempt = 0
        while true {
            do throws(QueueError) {
                let result = try step()
                if attempt > 0 { logger.info("database usable again", metadata: ["step": "\(what)", "tries": "\(attempt + 1)"]) }
                return result
            } catch where error.isPassingStorageFailure && !Task.isCancelled {
                if attempt == 0 || attempt.isMultiple(of: 20) {
                    logger.info("database failure, will try again", metadata: ["step": "\(what)", "error": "\(error)"])
                }
                try? await Task.sleep(for: wait(after: attempt))  // cancelled: the loop sees it and stops waiting
                attempt += 1
            }
        }
    }
}

extension EngineContext {
    /// Runs a store step through ``StoragePatience`` (once, unless ``waitsOutStorageFailures``).
    func patiently<T>(_ what: String, _ step: () throws(QueueError) -> T) async throws(QueueError) -> T {
        try await StoragePatience.run(what, logger: logger, patient: waitsOutStorageFailures, step)
    }
}
