import CSQLite
import Dispatch
import Logging
import Synchronization

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
/// the step is tried again after 50 ms, doubling up to 5 s, for as long as it takes — until the
/// engine stops, when one more try is all it gets and the failure is thrown (the file is then left
/// to the recovery of the next open or engine start).
///
/// A worker the scheduler stops (its group suspended, cancelled or pre-empted) keeps waiting: the
/// step it owes the database (release the file, record the retry, complete a renamed file) must
/// land, or the file would stay claimed by nobody while the engine runs. Only a running engine
/// waits (``EngineContext/engineStop``): a worker driven directly (the crash harness, whose faults
/// may never clear) tries each step once.
enum StoragePatience {
    /// The longest wait between two tries.
    static let maximumWait = Duration.seconds(5)
    /// How often a wait looks whether the engine stopped.
    static let stopPoll = Duration.milliseconds(50)

    /// The wait before try number `attempt + 1`.
    static func wait(after attempt: Int) -> Duration {
        min(maximumWait, .milliseconds(50 << min(attempt, 7)))
    }

    /// Runs `step` until it succeeds, fails with anything but a passing storage failure, or
    /// `stopped` says the engine stops (by default: the calling task is cancelled); with `patient`
    /// false, once.
    static func run<T>(
        _ what: String, logger: Logger, patient: Bool = true, stopped: () -> Bool = { Task.isCancelled },
        _ step: () async throws(QueueError) -> T
    ) async throws(QueueError) -> T {
        guard patient else { return try await step() }
        var attempt = 0
        while true {
            do throws(QueueError) {
                let result = try await step()
                if attempt > 0 { logger.info("database usable again", metadata: ["step": "\(what)", "tries": "\(attempt + 1)"]) }
                return result
            } catch let error where error.isPassingStorageFailure && !stopped() {
                if attempt == 0 || attempt.isMultiple(of: 20) {
                    logger.info("database failure, will try again", metadata: ["step": "\(what)", "error": "\(error)"])
                }
                await pause(wait(after: attempt), unless: stopped)
                attempt += 1
            }
        }
    }

    /// Waits `duration`, whether or not the calling task is cancelled, but no more than
    /// ``stopPoll`` after `stopped` turns true.
    private static func pause(_ duration: Duration, unless stopped: () -> Bool) async {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while !stopped(), clock.now < end {
            let slice = min(stopPoll, clock.now.duration(to: end))
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(slice.nanoseconds))) { done.resume() }
            }
        }
    }
}

/// Set once, when the running engine stops: the one stop that ends its workers' waits for the
/// database (a worker's own task is also cancelled when the scheduler stops just that transfer).
final class EngineStop: Sendable {
    private let flag = Atomic(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() { flag.store(true, ordering: .releasing) }
}

extension EngineContext {
    /// Runs a store step through ``StoragePatience`` until the engine stops (once, without ``engineStop``).
    func patiently<T>(_ what: String, _ step: () async throws(QueueError) -> T) async throws(QueueError) -> T {
        try await StoragePatience.run(what, logger: logger, patient: engineStop != nil, stopped: { engineStop?.isSet ?? true }, step)
    }
}
