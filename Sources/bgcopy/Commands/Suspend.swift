import ArgumentParser
import BackgroundCopy

/// `bgcopy suspend GROUP` (bitsadmin /suspend): stops the group's transfers; partial bytes are kept.
struct Suspend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Suspend a group: its transfers stop within a second, partial bytes are kept.")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    func run() throws {
        let manager = try queue.open()
        let group = try GroupResolver(manager: manager).resolve(group)
        try group.suspend()
        Console.line("suspended \(group.id) (state \(try group.status().state.rawValue))")
    }
}
