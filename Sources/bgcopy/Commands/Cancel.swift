import ArgumentParser
import BackgroundCopy

/// `bgcopy cancel GROUP` (bitsadmin /cancel): removes the group in one transaction. Complete files
/// stay at their local paths (retained), partial ones are discarded; an engine transferring the
/// group, in this or another process, stops within a second.
struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a group: complete files are kept, partial ones removed; this cannot be undone.")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    func run() throws {
        let manager = try queue.open()
        let group = try GroupResolver(manager: manager).resolve(group)
        let before = try manager.lastEventSequence()
        try group.cancel()
        // The cancel's event carries "retained N, discarded M"; the library returns nothing.
        let summary = try manager.recordedEvents(after: before, limit: 10_000)
            .last { $0.kind == .cancelled && $0.groupID == group.id }?.detail
        Console.line("cancelled \(group.id)" + (summary.map { " (\($0))" } ?? ""))
    }
}
