import Foundation
import Logging

/// Runs the groups' notify commands (BITS: SetNotifyCmdLine) for the running engine, driven by the
/// outbox: every `groupComplete` or `groupError` event whose group had a command left a row in
/// `notify_runs` in the event's own transaction; this runs each one, oldest first and one at a
/// time, then deletes the row and records a `notifyCommandFinished` event in one transaction.
///
/// At least once per event: a crash or kill after the event committed and before that last
/// transaction leaves the row, and the next engine runs the command again (the command gets the
/// event's sequence in `BGCOPY_EVENT_SEQUENCE` to tell). Only the engine runs commands, and only
/// one engine runs per database, so no two processes run the same row at once.
struct NotifyCommandRunner: Sendable {
    let core: QueueCore

    /// How many owed runs one read fetches.
    private static let batch = 16

    /// A running runner, stopped by the engine before it lets go of its lock.
    struct Handle: Sendable {
        fileprivate let task: Task<Void, Never>

        /// Stops the runner and waits for it: a command still running gets SIGTERM (then SIGKILL
        /// after 2 s) and stays owed.
        func stop() async {
            task.cancel()
            await task.value
        }
    }

    /// Starts the runner in a task of its own.
    func start() -> Handle {
        Handle(task: Task { await run() })
    }

    /// Runs owed commands until the calling task is cancelled, waiting for commits in between.
    /// Database failures never end it: it logs them and looks again after a growing pause.
    func run() async {
        var failures = 0
        while !Task.isCancelled {
            do throws(QueueError) {
                let stamp = try core.store.changeStamp()
                let runs = try await core.store.read { db throws(QueueError) in try db.pendingNotifyRuns(limit: Self.batch) }
                failures = 0
                if runs.isEmpty {
                    _ = try await core.store.waitForChange(since: stamp, pollInterval: core.configuration.changePollInterval)
                    continue
                }
                for run in runs {
                    guard !Task.isCancelled, let outcome = await execute(run) else { return }
                    try await record(run, outcome)
                }
            } catch {
                if Task.isCancelled { return }
                failures += 1
                if failures == 1 || failures.isMultiple(of: 20) {
                    core.logger.info("database failure in the notify command runner, will try again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: StoragePatience.wait(after: failures - 1))  // cancelled only when the runner stops; the loop checks that
            }
        }
    }

    /// Runs one command; `nil` if the engine stopped while it ran (it stays owed).
    private func execute(_ run: PendingNotifyRun) async -> NotifyOutcome? {
        guard let command = run.command else { return .notStarted(ENOENT) }
        var environment = ProcessInfo.processInfo.environment
        environment["BGCOPY_EVENT_SEQUENCE"] = "\(run.sequence)"
        environment["BGCOPY_EVENT"] = run.kind.rawValue
        environment["BGCOPY_GROUP_ID"] = run.groupID.description
        environment["BGCOPY_QUEUE"] = core.store.path
        core.logger.debug(
            "running notify command",
            metadata: ["group": "\(run.groupID)", "sequence": "\(run.sequence)", "program": "\(command.program)"])
        let outcome = await NotifyProcess.run(command.argv, environment: environment, timeout: core.configuration.notifyCommandTimeout)
        return outcome == .interrupted ? nil : outcome
    }

    /// Settles the run and records how it went, waiting out passing database failures.
    private func record(_ run: PendingNotifyRun, _ outcome: NotifyOutcome) async throws(QueueError) {
        let detail = "event \(run.sequence): \(outcome.detail)"
        let metadata: Logger.Metadata = ["group": "\(run.groupID)", "sequence": "\(run.sequence)", "outcome": "\(outcome.detail)"]
        if outcome == .exited(0) {
            core.logger.debug("notify command finished", metadata: metadata)
        } else {
            core.logger.info("notify command failed", metadata: metadata)
        }
        let now = core.now()
        _ = try await StoragePatience.run("record a notify command", logger: core.logger) { () async throws(QueueError) in
            try await core.store.write { db throws(QueueError) in try db.finishNotifyRun(run.sequence, detail: detail, at: now) }
        }
    }
}
