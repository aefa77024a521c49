import ArgumentParser
import BackgroundCopy
import Foundation

/// `bgcopy purge --older-than DURATION`: removes what old tombstones leave behind.
struct Purge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the jobs, files and events of groups and jobs cancelled more than DURATION ago.",
        discussion: "A cancelled group keeps one small row so that its ID is never reused.")

    @OptionGroup var queue: QueueOptions

    @Option(name: .customLong("older-than"), help: ArgumentHelp("How old a tombstone must be: 7d, 12h, 30m, 45s, 1h30m.", valueName: "duration"))
    var olderThan: DurationArgument

    func run() throws {
        let manager = try queue.open()
        let milliseconds = olderThan.duration.components.seconds * 1000 + olderThan.duration.components.attoseconds / 1_000_000_000_000_000
        let purged = try manager.purgeTombstones(olderThan: Date().addingTimeInterval(-Double(milliseconds) / 1000))
        Console.line("purged \(purged) tombstone\(purged == 1 ? "" : "s")")
    }
}
