import ArgumentParser
import BackgroundCopy

/// `bgcopy create NAME`: a new, suspended group (bitsadmin /create); prints its ID.
struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a new, suspended group and print its ID.")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group's display name (1 to 256 characters).")
    var name: String

    @Option(help: "foreground, high, normal (default) or low.")
    var priority: Priority = .normal

    @Option(help: "A description (at most 1,024 characters).")
    var description: String = ""

    @Flag(help: "Make it a foreground group (same as --priority foreground).")
    var foreground = false

    @Option(help: ArgumentHelp("Use this group ID instead of a new random one.", valueName: "uuid"))
    var id: GroupID?

    func run() throws {
        let manager = try queue.open()
        let properties = GroupProperties(
            displayName: name, description: description,
            priority: foreground ? .foreground : priority)
        let group = try manager.createGroup(id: id, properties: properties)
        Console.line(group.id.description)
    }
}
