import BackgroundCopy
import Foundation

/// The plain display of `run` and `download` when stdout is not a terminal: one line per event
/// (file, job and group complete, errors, cancels, changes) and a progress line per transferring
/// group every few seconds.
///
/// ```
/// 12:00:01 file start   9f1c2a3b "nightly mirror" file 0 https://mirror.example/part0.bin -> /srv/mirror/part0.bin
/// 12:00:05 progress     9f1c2a3b "nightly mirror" 37% 1.5 MiB/4.0 MiB 512.0 KiB/s ETA 0:05
/// 12:00:09 file done    9f1c2a3b "nightly mirror" file 0 -> /srv/mirror/part0.bin
/// 12:00:09 group done   9f1c2a3b "nightly mirror"
/// ```
struct LogLines {
    let manager: QueueManager
    let progressEvery: Duration
    private var rates = FrameRates()
    private var names: [GroupID: String] = [:]
    private var lastProgress: [GroupID: ContinuousClock.Instant] = [:]
    private var started: [GroupID: String] = [:]

    init(manager: QueueManager, progressEvery: Duration = .seconds(5)) {
        self.manager = manager
        self.progressEvery = progressEvery
    }

    mutating func update(_ frame: LiveFrame) {
        rates.record(frame)
        for group in frame.groups { names[group.id] = group.properties.displayName }
        for event in frame.events { if let line = line(for: event) { Console.line(line) } }
        for (group, file) in frame.files where started[group] != file.rateKey {
            started[group] = file.rateKey
            Console.line(
                stamp(Date(), "file start", group) + " file \(file.file.index) "
                    + Format.remote(file.file.remote) + " -> " + file.file.local)
        }
        let now = ContinuousClock.now
        for group in frame.groups where group.status.state == .transferring {
            guard let last = lastProgress[group.id] else {
                lastProgress[group.id] = now  // the first line waits until a rate can be told
                continue
            }
            guard last.duration(to: now) >= progressEvery else { continue }
            lastProgress[group.id] = now
            let progress = group.progress
            Console.line(
                stamp(Date(), "progress", group.id) + " \(progress.percent)% "
                    + "\(Format.bytes(progress.bytesDone))/\(Format.bytes(progress.bytesTotal)) "
                    + "\(Format.rate(rates.rate(group))) ETA \(Format.clock(rates.eta(group)))")
        }
    }

    func finish(summary: [String]) {
        summary.forEach(Console.line)
    }

    private func stamp(_ date: Date, _ what: String, _ group: GroupID) -> String {
        let name = names[group].map { " \"\($0)\"" } ?? ""
        return Format.time(date) + " " + what.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + Format.short(group) + name
    }

    private func line(for event: QueueEvent) -> String? {
        let head = { (what: String) in stamp(event.date, what, event.groupID) }
        switch event.kind {
        case .progress: return nil
        case .fileComplete:
            let index = event.fileIndex ?? 0
            // The event names the path; only one recorded by an older version has to be looked up.
            let local =
                event.detail.isEmpty
                ? event.jobID.flatMap { try? manager.group(event.groupID).job($0).file(at: index).local } : event.detail
            return head("file done") + " file \(index)" + (local.map { " -> \($0)" } ?? "")
        case .jobComplete: return head("job done")
        case .groupComplete: return head("group done")
        case .groupError: return head("group error") + ": " + event.detail
        case .cancelled: return head("cancelled") + (event.detail.isEmpty ? "" : " (\(event.detail))")
        case .jobCancelled: return head("job cancel") + (event.detail.isEmpty ? "" : " (\(event.detail))")
        case .groupCreated: return head("created")
        case .modified: return head("changed") + (event.detail.isEmpty ? "" : ": " + event.detail)
        case .notifyCommandFinished: return head("notified") + ": " + event.detail
        }
    }
}
