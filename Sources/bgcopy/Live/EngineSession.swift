import BackgroundCopy
import Foundation
import Synchronization

/// Runs the transfer engine in the foreground with a live display, for `run` and `download`.
///
/// The engine runs in a child task; whenever the queue changes (at most every 50 ms) and at
/// least every 200 ms, the session reads the queue, draws a frame (bars on a terminal, log lines
/// otherwise) and checks whether to stop, so it ends as soon as the last group does. A read that
/// takes long (a group's progress sums all its files) spaces the next one four times as far, so
/// the display never takes more than a fifth of a core from the engine. SIGINT or SIGTERM
/// cancels the engine task, which checkpoints every transfer and returns; the next run resumes
/// where this one stopped.
struct EngineSession {
    /// When the session ends by itself (besides a signal or an engine failure).
    enum Until: Sendable {
        /// Only on a signal (`bgcopy run`).
        case interrupted
        /// When no group in scope is queued or transferring (`bgcopy run --once`).
        case idle
    }

    /// How the session ended.
    struct Outcome: Sendable {
        /// The signal's exit status if one stopped the session.
        var signal: ExitStatus?
        /// The error the engine stopped with, if it failed.
        var engineError: QueueError?
        /// The groups in scope at the end.
        var groups: [GroupSnapshot]
        /// Counts of what happened during the session.
        var filesDone = 0
        var groupsDone = 0
        var groupErrors = 0
        var bytes: UInt64 = 0
        var elapsed: Duration = .zero
    }

    let manager: QueueManager
    /// Only these groups are shown and waited for; `nil` for the whole queue.
    var scope: Set<GroupID>?
    var until: Until
    /// Whether stdout gets bars (a terminal) or log lines.
    var bars = Console.isTerminal
    /// When another process already runs the engine: watch its progress instead of failing.
    var watchIfEngineRuns = false
    /// The first line of the terminal display.
    var title = "bgcopy run"

    func run() async throws -> Outcome {
        let trap = SignalTrap()
        defer { trap.restore() }
        let clock = ContinuousClock()
        let started = clock.now
        var sequence = try await manager.lastEventSequence()
        let engineEnded = EndFlag()
        var engine: Task<QueueError?, Never>? = Task { [manager] in
            defer { engineEnded.set() }
            do throws(QueueError) {
                try await manager.run()
                return nil
            } catch {
                return error
            }
        }
        let engineTask = engine
        trap.onSignal { engineTask?.cancel() }

        var outcome = Outcome(groups: [])
        var display = ProgressDisplay()
        var log = LogLines(manager: manager)
        var shown: Set<GroupID> = []
        var first: [GroupID: UInt64] = [:]
        var last: [GroupID: UInt64] = [:]
        var frame = LiveFrame()
        func transferred() -> UInt64 {
            last.reduce(0) { total, entry in total + (entry.value &- min(entry.value, first[entry.key] ?? 0)) }
        }
        func sample(final: Bool) throws {
            frame = try LiveFrame.read(manager, scope: scope) { group in
                if group.isActive || scope != nil { shown.insert(group.id) }
                return shown.contains(group.id)
            }
            frame.events = try LiveFrame.events(manager, after: sequence, scope: scope)
            if let newest = frame.events.last?.sequence { sequence = newest }
            for event in frame.events {
                switch event.kind {
                case .fileComplete: outcome.filesDone += 1
                case .groupComplete: outcome.groupsDone += 1
                case .groupError: outcome.groupErrors += 1
                default: break
                }
            }
            for group in frame.groups {
                if first[group.id] == nil { first[group.id] = group.progress.bytesDone }
                last[group.id] = group.progress.bytesDone
            }
            guard !final else { return }
            var sofar = outcome
            sofar.groups = frame.groups
            sofar.elapsed = started.duration(to: clock.now)
            sofar.bytes = transferred()
            trap.setFarewell(summaryLines(sofar, forced: true))
            if bars {
                display.update(frame) { rates in header(frame, rate: rates.total(frame)) }
            } else {
                log.update(frame)
            }
        }

        var changes = manager.changes(orEvery: .milliseconds(200)).makeAsyncIterator()
        while true {
            let reading = clock.now
            try sample(final: false)
            let spacing = max(.milliseconds(50), reading.duration(to: clock.now) * 4)
            if trap.caught != nil { break }
            if engineEnded.isSet, let failed = engine {
                let error = await failed.value
                if let error, watchIfEngineRuns, error.code == .invalidState, error.message.contains("engine") {
                    engine = nil  // another process transfers: keep watching
                    if !bars { Console.line("another process runs the engine on this queue; watching its progress") }
                } else {
                    outcome.engineError = error
                    break
                }
            }
            if until == .idle, !frame.groups.contains(where: \.isActive) { break }
            let sampled = clock.now
            if await changes.next() == nil {
                try? await Task.sleep(for: .milliseconds(200))  // the queue closed: the loop's checks end it
            }
            try? await Task.sleep(until: sampled + spacing)
        }
        engine?.cancel()
        if let engine, let error = await engine.value, outcome.engineError == nil { outcome.engineError = error }
        outcome.signal = trap.exitStatus
        try sample(final: true)
        trap.setFarewell([])  // the summary below says it all
        outcome.groups = frame.groups
        outcome.elapsed = started.duration(to: clock.now)
        outcome.bytes = transferred()
        let summary = summaryLines(outcome, forced: false)
        if bars {
            display.finish(frame, header: header(frame, rate: nil), summary: summary)
        } else {
            log.update(frame)
            log.finish(summary: summary)
        }
        return outcome
    }

    private func header(_ frame: LiveFrame, rate: Double?) -> String {
        let active = frame.groups.filter(\.isActive).count
        var text = "\(title): \(active) group\(active == 1 ? "" : "s") active"
        if let rate { text += ", " + Format.rate(rate) }
        return text + " (Ctrl-C stops)"
    }

    /// The closing lines; `forced` for the ones a second signal prints before exiting at once.
    private func summaryLines(_ outcome: Outcome, forced: Bool) -> [String] {
        let counts =
            "\(outcome.filesDone) file\(outcome.filesDone == 1 ? "" : "s") complete, "
            + "\(outcome.groupsDone) group\(outcome.groupsDone == 1 ? "" : "s") complete, "
            + "\(outcome.groupErrors) in error, \(Format.bytes(outcome.bytes)) transferred"
        var lines: [String]
        if forced {
            lines = [
                "bgcopy: stopped at once after \(Format.elapsed(outcome.elapsed)): " + counts
                    + "; progress up to the last checkpoint is saved and the next `bgcopy run` resumes"
            ]
        } else if outcome.signal != nil {
            lines = [
                "bgcopy: interrupted after \(Format.elapsed(outcome.elapsed)): " + counts
                    + "; progress is saved and the next `bgcopy run` resumes"
            ]
        } else if outcome.engineError != nil {
            lines = []  // the command reports the engine's error itself
        } else {
            lines = ["bgcopy: done in \(Format.elapsed(outcome.elapsed)): " + counts]
        }
        for group in outcome.groups where group.status.state == .error {
            let message = group.status.lastError?.error.message ?? "failed"
            lines.append("group \(Format.short(group.id)) \"\(group.properties.displayName)\" is in error: \(message)")
        }
        return lines
    }
}

/// Set once when the engine task returns.
final class EndFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .releasing) }

    var isSet: Bool { value.load(ordering: .acquiring) }
}
