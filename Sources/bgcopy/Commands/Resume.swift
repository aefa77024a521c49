import ArgumentParser
import BackgroundCopy

/// `bgcopy resume GROUP` (bitsadmin /resume): queues the group for the engine; clears an error.
struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a group: queue it for the engine (a group in error is retried).",
        discussion: "Fails (exit 1) if the group has no file left to transfer. `bgcopy run` or a host application's engine does the transfers.")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    func run() throws {
        let manager = try queue.open()
        let group = try GroupResolver(manager: manager).resolve(group)
        try group.resume()
        Console.line("resumed \(group.id) (state \(try group.status().state.rawValue))")
    }
}
