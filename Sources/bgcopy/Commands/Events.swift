import ArgumentParser
import BackgroundCopy
import Foundation

/// `bgcopy events`: the queue's events outbox, every recorded change in order, unfiltered by
/// notify flags; `--follow` keeps printing new ones as they are recorded.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the events outbox (with --follow, keep printing new events until Ctrl-C).")

    @OptionGroup var queue: QueueOptions

    @Flag(help: "Keep polling for new events (4 times a second) until Ctrl-C.")
    var follow = false

    @Option(help: ArgumentHelp("Only events after this sequence number (default 0: from the start).", valueName: "seq"))
    var since: Int64 = 0

    @Option(help: ArgumentHelp("Only events of this group (an ID, a unique ID prefix or a unique display name).", valueName: "group"))
    var group: String?

    @Flag(help: "Print one JSON object a line (JSON Lines; see README).")
    var json = false

    func validate() throws {
        if since < 0 { throw ValidationError("--since must be 0 or more, not \(since)") }
    }

    func run() async throws {
        let manager = try queue.openExisting()
        let only = try group.map { try GroupResolver(manager: manager).resolve($0).id }
        let trap = follow ? SignalTrap() : nil
        defer { trap?.restore() }
        var last = since
        var headerShown = false
        while true {
            let page = try manager.recordedEvents(after: last, limit: 1000)
            for event in page where only == nil || event.groupID == only {
                if json {
                    Console.line(JSONModels.event(event).render())
                } else {
                    if !headerShown {
                        Console.line("SEQ      DATE                      KIND           GROUP     JOB       FILE  STATE         DETAIL")
                        headerShown = true
                    }
                    Console.line(line(event))
                }
            }
            last = page.last?.sequence ?? last
            if page.count == 1000 { continue }
            guard let trap else { break }
            if trap.caught != nil { break }
            try? await Task.sleep(for: .milliseconds(250))
            if trap.caught != nil { break }
        }
        if let signal = trap?.exitStatus { throw ExitCode(signal.rawValue) }
    }

    private func line(_ event: QueueEvent) -> String {
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        return [
            pad(String(event.sequence), 8), pad(Format.timestamp(event.date), 25), pad(event.kind.rawValue, 14),
            pad(Format.short(event.groupID), 9), pad(event.jobID.map { String($0.description.prefix(8)) } ?? "-", 9),
            pad(event.fileIndex.map(String.init) ?? "-", 5), pad(event.groupState.rawValue, 13), event.detail,
        ].joined(separator: " ")
    }
}
